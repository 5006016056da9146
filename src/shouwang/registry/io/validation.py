"""Validating parsed rows against each other, the database and the models' own rules.

Rows are added one by one (``add``: checks that need no database, including the member's
``full_clean``); ``finish`` then looks everything up in bulk (villages, users, existing
households and members by blind index, existing heads) and runs each household's
``full_clean``. The database is read a fixed number of times per 500 keys, never per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.choices import DivisionLevel
from shouwang.core.idnumber import IdNumber
from shouwang.core.jurisdiction import area_q, division_in_area
from shouwang.core.models import Division, User
from shouwang.registry.bulk import HouseholdRecord, MemberRecord
from shouwang.registry.choices import Relation
from shouwang.registry.io.columns import (
    COLUMN_BY_FIELD,
    COLUMNS,
    FIELD_HEADERS,
    HOUSEHOLD,
    Boolean,
    Choice,
    division_short_name,
    masked_id_message,
)
from shouwang.registry.io.parsing import ParsedRow, RowError
from shouwang.registry.models import Household, Member
from shouwang.registry.services import set_phone

LOOKUP_CHUNK = 500
T = TypeVar("T")

#: Household-level values that are not model fields of Household (or not under that name).
_HOUSEHOLD_PSEUDO = frozenset(
    {"household_number", "township_name", "village_name", "phone", "grid_member"}
)
#: Fields full_clean must skip: derived, encrypted, or checked here in bulk (foreign keys would
#: otherwise cost one query each).
HOUSEHOLD_CLEAN_EXCLUDE = frozenset(
    {
        "village",
        "grid_member",
        "phone_encrypted",
        "phone_index",
        "phone_masked",
        "per_capita_net_income",
        "member_count",
        "head_name",
    }
)
MEMBER_CLEAN_EXCLUDE = frozenset(
    {"household", "id_number_encrypted", "id_number_index", "id_number_masked", "sex", "birth_date"}
)
#: Choice and yes/no cells convert only to allowed values, so full_clean need not check them
#: again (it costs more than the rest of the row's checks); clean() still sees them.
_EXACT = frozenset(c.field for c in COLUMNS if isinstance(c.converter, (Choice, Boolean)))
HOUSEHOLD_CLEAN_EXCLUDE |= _EXACT
MEMBER_CLEAN_EXCLUDE |= _EXACT
_COLUMN_ORDER = {c.header: i for i, c in enumerate(COLUMNS)}


def _chunks(items: list[T], size: int = LOOKUP_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _MemberDraft:
    row: int
    id_number: IdNumber
    index: str
    fields: dict[str, Any]


@dataclass
class _HouseholdDraft:
    number: str
    first_row: int
    #: Household-level values of the first row (those that converted).
    values: dict[str, Any]
    members: list[_MemberDraft] = field(default_factory=list)
    head_rows: list[int] = field(default_factory=list)
    #: Household-level fields whose cells failed to convert on the first row.
    failed: set[str] = field(default_factory=set)
    #: Some row's 与户主关系 failed to convert, so "no head" may not be true.
    relation_failed: bool = False


def _header(name: str) -> str:
    return FIELD_HEADERS.get(name, "")


class RegistryValidator:
    """Collects every error of a file; builds the bulk-upsert records when there is none."""

    def __init__(self, *, actor: User | None) -> None:
        self.actor = actor
        self.errors: list[RowError] = []
        self.households: dict[str, _HouseholdDraft] = {}
        self.rows = 0
        self.masked_rows = 0
        self.user_ids: dict[str, int] = {}
        self._id_rows: dict[str, int] = {}
        self._existing_households: dict[int, str] = {}

    # -- per row -----------------------------------------------------------------------------

    def add(self, row: ParsedRow) -> None:
        self.rows += 1
        self.errors.extend(row.errors)
        if any(e.message == masked_id_message() for e in row.errors):
            self.masked_rows += 1
        failed = self._failed_fields(row)
        member = self._check_member(row, failed)
        number = row.household.get("household_number")
        if number is None:
            return
        draft = self.households.get(number)
        if draft is None:
            draft = _HouseholdDraft(
                number=number,
                first_row=row.number,
                values=row.household,
                failed={f for f in failed if COLUMN_BY_FIELD[f].level == HOUSEHOLD},
            )
            self.households[number] = draft
        else:
            self._check_same_household(draft, row)
        draft.relation_failed = draft.relation_failed or "relation" in failed
        if member is not None:
            draft.members.append(member)
        if row.member.get("relation") == Relation.HEAD:
            if draft.head_rows:
                self.errors.append(
                    RowError(
                        row.number,
                        _header("relation"),
                        _("本户已有户主（第 %(row)d 行）") % {"row": draft.head_rows[0]},
                    )
                )
            draft.head_rows.append(row.number)

    @staticmethod
    def _failed_fields(row: ParsedRow) -> set[str]:
        if not row.errors:
            return set()
        headers = {e.column for e in row.errors}
        return {c.field for c in COLUMNS if c.header in headers}

    def _check_member(self, row: ParsedRow, failed: set[str]) -> _MemberDraft | None:
        fields = {k: v for k, v in row.member.items() if k != "id_number"}
        id_number: IdNumber | None = row.member.get("id_number")
        instance = Member(**fields)
        if id_number is not None:
            instance.sex, instance.birth_date = id_number.sex, id_number.birth_date
        member_failed = {f for f in failed if COLUMN_BY_FIELD[f].level != HOUSEHOLD}
        self._full_clean(
            instance, row.number, MEMBER_CLEAN_EXCLUDE | member_failed, partial=bool(member_failed)
        )
        if id_number is None:
            return None
        first = self._id_rows.setdefault(id_number.value, row.number)
        if first != row.number:
            self.errors.append(
                RowError(
                    row.number,
                    _header("id_number"),
                    _("证件号码与第 %(row)d 行重复") % {"row": first},
                )
            )
            return None
        return _MemberDraft(row.number, id_number, crypto.blind_index(id_number.value), fields)

    def _check_same_household(self, draft: _HouseholdDraft, row: ParsedRow) -> None:
        for name, value in row.household.items():
            if name in draft.values and draft.values[name] != value:
                self.errors.append(
                    RowError(
                        row.number,
                        _header(name),
                        _("同一户各行的“%(column)s”应相同，本行与第 %(row)d 行不同")
                        % {"column": _header(name), "row": draft.first_row},
                    )
                )

    def _full_clean(
        self, instance: Household | Member, row: int, exclude: Iterable[str], *, partial: bool
    ) -> None:
        """The model's own validation. ``partial``: some cells failed to convert, so only the
        field checks run; the cross-field rules of clean() would judge the defaults in their place."""
        try:
            if partial:
                instance.clean_fields(exclude=list(exclude))
            else:
                # Uniqueness and constraints are checked in bulk in finish(); here they would query.
                instance.full_clean(
                    exclude=list(exclude), validate_unique=False, validate_constraints=False
                )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = "" if name == NON_FIELD_ERRORS else _header(name)
                self.errors.extend(RowError(row, column, str(m)) for m in messages)

    # -- whole file --------------------------------------------------------------------------

    def finish(self) -> list[HouseholdRecord]:
        """Run the checks that need the database; the records to write, or [] with errors."""
        if self.rows == 0:
            self.errors.append(RowError(None, "", _("文件中没有数据行")))
        if self.rows and self.masked_rows == self.rows:
            # A masked export: one clear message instead of one per row.
            self.errors = [
                RowError(
                    None,
                    _header("id_number"),
                    _("文件中的证件号码全部已脱敏。") + masked_id_message(),
                )
            ]
            return []
        drafts = list(self.households.values())
        self._check_heads(drafts)
        self._check_villages(drafts)
        self._check_grid_members(drafts)
        self._check_existing_households(drafts)
        self._check_existing_members(drafts)
        records = [self._household_record(d) for d in drafts]
        if self.errors:
            return []
        return [r for r in records if r is not None]

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.row or 0, _COLUMN_ORDER.get(e.column, -1)))

    def _check_heads(self, drafts: list[_HouseholdDraft]) -> None:
        for draft in drafts:
            if not draft.head_rows and not draft.relation_failed:
                self.errors.append(
                    RowError(
                        draft.first_row,
                        _header("relation"),
                        _("本户没有户主：每户须有且只有一名户主"),
                    )
                )

    def _check_villages(self, drafts: list[_HouseholdDraft]) -> None:
        codes = sorted({d.values["village_id"] for d in drafts if "village_id" in d.values})
        villages: dict[str, tuple[int, str, str]] = {}
        for chunk in _chunks(codes):
            for code, level, name, parent in Division.objects.filter(code__in=chunk).values_list(
                "code", "level", "name", "parent__name"
            ):
                villages[code] = (level, name, parent or "")
        for draft in drafts:
            code = draft.values.get("village_id")
            if code is None:
                continue
            found = villages.get(code)
            if found is None or found[0] != DivisionLevel.VILLAGE:
                self.errors.append(
                    RowError(
                        draft.first_row,
                        _header("village_id"),
                        _("“%(code)s”不是已加载的村（社区）区划代码") % {"code": code},
                    )
                )
                continue
            _level, village_name, township_name = found
            if not division_in_area(self.actor, code):
                self.errors.append(
                    RowError(
                        draft.first_row,
                        _header("village_id"),
                        _("%(name)s（%(code)s）不在您的管辖范围内")
                        % {"name": village_name, "code": code},
                    )
                )
            for name, expected in (
                ("township_name", township_name),
                ("village_name", village_name),
            ):
                given = draft.values.get(name)
                if given and given not in (expected, division_short_name(expected)):
                    self.errors.append(
                        RowError(
                            draft.first_row,
                            _header(name),
                            _("“%(given)s”与行政区划代码 %(code)s（%(expected)s）不符")
                            % {"given": given, "code": code, "expected": expected},
                        )
                    )

    def _check_grid_members(self, drafts: list[_HouseholdDraft]) -> None:
        usernames = sorted({d.values["grid_member"] for d in drafts if d.values.get("grid_member")})
        for chunk in _chunks(usernames):
            self.user_ids.update(
                User.objects.filter(username__in=chunk).values_list("username", "id")
            )
        for draft in drafts:
            username = draft.values.get("grid_member")
            if username and username not in self.user_ids:
                self.errors.append(
                    RowError(
                        draft.first_row,
                        _header("grid_member"),
                        _("用户“%(username)s”不存在") % {"username": username},
                    )
                )

    def _check_existing_households(self, drafts: list[_HouseholdDraft]) -> None:
        existing: dict[str, tuple[int, str]] = {}
        for chunk in _chunks([d.number for d in drafts]):
            for number, pk, village in (
                Household.objects.filter(household_number__in=chunk)
                .order_by()
                .values_list("household_number", "pk", "village_id")
            ):
                existing[number] = (pk, village)
        for draft in drafts:
            found = existing.get(draft.number)
            if found is not None and not division_in_area(self.actor, found[1]):
                self.errors.append(
                    RowError(
                        draft.first_row,
                        _header("household_number"),
                        _("该户编号已登记在您管辖范围以外的行政村"),
                    )
                )
        self._existing_households = {pk: number for number, (pk, _village) in existing.items()}

    def _check_existing_members(self, drafts: list[_HouseholdDraft]) -> None:
        members = {m.index: m for d in drafts for m in d.members}
        # An empty area filter means full access: nobody's record is out of reach.
        if area_q(self.actor, "village_id"):
            for chunk in _chunks(list(members)):
                for index, village in (
                    Member.objects.filter(id_number_index__in=chunk)
                    .order_by()
                    .values_list("id_number_index", "household__village_id")
                ):
                    if not division_in_area(self.actor, village):
                        self.errors.append(
                            RowError(
                                members[index].row,
                                _header("id_number"),
                                _("该证件号码已登记在您管辖范围以外的农户中"),
                            )
                        )
        # A head registered in the database and absent from the file would make a second head.
        by_number = {d.number: d for d in drafts}
        for chunk in _chunks(list(self._existing_households)):
            for household_id, index, masked in (
                Member.objects.filter(household_id__in=chunk, relation=Relation.HEAD)
                .order_by()
                .values_list("household_id", "id_number_index", "id_number_masked")
            ):
                draft = by_number[self._existing_households[household_id]]
                if index not in members and draft.head_rows:
                    self.errors.append(
                        RowError(
                            draft.head_rows[0],
                            _header("relation"),
                            _(
                                "系统中该户已有户主（证件号码 %(masked)s），文件中没有此人；请在文件中列出该成员，或先在系统中调整户主"
                            )
                            % {"masked": masked},
                        )
                    )

    def _household_record(self, draft: _HouseholdDraft) -> HouseholdRecord | None:
        values = draft.values
        fields = {k: v for k, v in values.items() if k not in _HOUSEHOLD_PSEUDO}
        username = values.get("grid_member")
        fields["grid_member_id"] = self.user_ids.get(username) if username else None
        household = Household(household_number=draft.number, **fields)
        if "phone" in values:
            try:
                set_phone(household, values["phone"])
            except ValidationError as exc:
                for messages in exc.message_dict.values():
                    self.errors.extend(
                        RowError(draft.first_row, _header("phone"), str(m)) for m in messages
                    )
        self._full_clean(
            household,
            draft.first_row,
            HOUSEHOLD_CLEAN_EXCLUDE | draft.failed,
            partial=bool(draft.failed),
        )
        if self.errors:
            return None  # records are only needed when the whole file is clean
        return HouseholdRecord(
            household_number=draft.number,
            fields=fields,
            phone=values.get("phone", ""),
            members=[MemberRecord(id_number=m.id_number, fields=m.fields) for m in draft.members],
        )
