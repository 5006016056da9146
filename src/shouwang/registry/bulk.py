"""Bulk upsert of households and members, for imports and the demo district.

Callers validate first (field values already clean, ID numbers already parsed); this module
writes in batches inside one transaction: households upserted by household number, members
by the blind index of their ID number, derived household fields recomputed, and one audit row
per created or changed record. Members already registered but absent from the records are
left alone: an import never deletes.

New rows are written with one prepared INSERT (executemany) on SQLite and with COPY on
PostgreSQL: Django's bulk_create compiles a statement for every few dozen rows, which costs
more than the database's own work at county scale (100,000 members).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import Count, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.audit import audit_event, model_snapshot
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError
from shouwang.core.idnumber import IdNumber
from shouwang.core.models import AuditEvent, User
from shouwang.registry.choices import Relation
from shouwang.registry.models import INCOME_FIELDS, Household, Member
from shouwang.registry.services import HOUSEHOLD_EDITABLE, MEMBER_EDITABLE, set_phone

#: Rows per query when looking up existing records (well under SQLite's variable limit).
LOOKUP_CHUNK = 500
WRITE_BATCH = 1000

T = TypeVar("T")
Progress = Callable[[int, int], None]
#: Field types whose Python values the database drivers take as they are.
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


@dataclass
class MemberRecord:
    id_number: IdNumber
    fields: dict[str, Any]


@dataclass
class HouseholdRecord:
    household_number: str
    fields: dict[str, Any]
    phone: str = ""
    members: list[MemberRecord] = field(default_factory=list)


@dataclass
class BulkResult:
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.households_created,
                self.households_updated,
                self.members_created,
                self.members_updated,
            )
        )


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fetch(model: type, key: str, values: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(list(values), LOOKUP_CHUNK):
        for obj in model.objects.filter(**{f"{key}__in": chunk}).order_by():
            found[getattr(obj, key)] = obj
    return found


def _fetch_pks(model: type, key: str, values: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(values), LOOKUP_CHUNK):
        found.update(
            model.objects.filter(**{f"{key}__in": chunk}).order_by().values_list(key, "pk")
        )
    return found


def _subject(household_id: int) -> str:
    return f"registry.household:{household_id}"


def _insert(objs: list[models.Model]) -> None:
    """Insert new rows fast; their primary keys are not set (fetch them by a unique key)."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # One timestamp for the whole batch, as for one transaction; plain values need no adapting.
    now = timezone.now()
    stamps = {
        f.attname: f.get_db_prep_save(now, connection)
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    getters: list[Callable[[models.Model], Any]] = []
    for f in fields:
        if f.attname in stamps:
            getters.append(lambda obj, value=stamps[f.attname]: value)
        elif isinstance(f, _PLAIN_FIELDS) and not isinstance(f, models.DecimalField):
            getters.append(lambda obj, name=f.attname: getattr(obj, name))
        else:
            getters.append(lambda obj, f=f: f.get_db_prep_save(getattr(obj, f.attname), connection))
    for obj in objs:
        for name in stamps:
            setattr(obj, name, now)
    rows = [[get(obj) for get in getters] for obj in objs]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            for chunk in _chunks(rows, 5000):
                cursor.executemany(sql, chunk)


@transaction.atomic
def registry_bulk_upsert(
    *,
    actor: User | None,
    records: list[HouseholdRecord],
    progress: Progress | None = None,
    source: str = "",
) -> BulkResult:
    """Create or update the households and members of ``records``; see the module docstring."""
    result = BulkResult()
    audit_rows: list[AuditEvent] = []
    extra = {"source": source} if source else {}
    total = len(records)

    existing_households = _fetch(
        Household, "household_number", (r.household_number for r in records)
    )
    new_households: list[Household] = []
    changed_households: list[Household] = []
    grid_cleared = False
    for record in records:
        unknown = set(record.fields) - HOUSEHOLD_EDITABLE
        if unknown:
            raise ValueError(f"unknown household fields: {sorted(unknown)}")
        household = existing_households.get(record.household_number)
        if household is None:
            household = Household(household_number=record.household_number, **record.fields)
            set_phone(household, record.phone)
            # A new household has no members but the record's: derive its fields now.
            household.member_count = len(record.members)
            household.head_name = next(
                (
                    m.fields.get("name", "")
                    for m in record.members
                    if m.fields.get("relation") == Relation.HEAD
                ),
                "",
            )
            household.per_capita_net_income = household.compute_per_capita_net_income(
                household.member_count
            )
            new_households.append(household)
            continue
        before = model_snapshot(household)
        for name, value in record.fields.items():
            setattr(household, name, value)
        if household.grid_id and household.village_id != before["village_id"]:
            # A grid belongs to one village; a moved household leaves it (as household_update).
            household.grid = None
            grid_cleared = True
        if record.phone and household.phone_index != crypto.blind_index(record.phone):
            set_phone(household, record.phone)
        after = model_snapshot(household)
        if before != after:
            changed_households.append(household)
            audit_rows.append(
                audit_event(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    target=household,
                    before=before,
                    after=after,
                    extra=extra,
                )
            )
        else:
            result.households_unchanged += 1

    _insert(new_households)
    ids = _fetch_pks(Household, "household_number", (h.household_number for h in new_households))
    for household in new_households:
        household.pk = ids[household.household_number]
        audit_rows.append(
            audit_event(
                actor=actor,
                action=AuditAction.CREATE,
                target=household,
                after=model_snapshot(household),
                extra=extra,
            )
        )
    household_update_fields = sorted(
        {f for r in records for f in r.fields}
        | {"phone_encrypted", "phone_index", "phone_masked", "updated_at"}
        | ({"grid"} if grid_cleared else set())
    )
    Household.objects.bulk_update(
        changed_households, household_update_fields, batch_size=WRITE_BATCH
    )
    result.households_created = len(new_households)
    result.households_updated = len(changed_households)

    households_by_number = {
        **existing_households,
        **{h.household_number: h for h in new_households},
    }
    member_indexes = {crypto.blind_index(m.id_number.value): m for r in records for m in r.members}
    existing_members = _fetch(Member, "id_number_index", member_indexes)
    new_members: list[Member] = []
    changed_members: list[Member] = []
    #: Heads that stop being heads, or move: they leave their slot before anyone takes it.
    former_heads: list[Member] = []
    #: Existing households whose members or incomes changed: their derived fields are recomputed.
    touched: set[int] = {h.pk for h in changed_households}
    member_update_fields: set[str] = {"household", "updated_at"}
    for done, record in enumerate(records, start=1):
        household = households_by_number[record.household_number]
        for member_record in record.members:
            unknown = set(member_record.fields) - MEMBER_EDITABLE
            if unknown:
                raise ValueError(f"unknown member fields: {sorted(unknown)}")
            index = crypto.blind_index(member_record.id_number.value)
            member = existing_members.get(index)
            if member is None:
                parsed = member_record.id_number
                new_members.append(
                    Member(
                        household_id=household.pk,
                        id_number_encrypted=crypto.encrypt(parsed.value),
                        id_number_index=index,
                        id_number_masked=crypto.mask_id_number(parsed.value),
                        sex=parsed.sex,
                        birth_date=parsed.birth_date,
                        **member_record.fields,
                    )
                )
                touched.add(household.pk)
                continue
            before = model_snapshot(member)
            old_household_id = member.household_id
            member.household_id = household.pk
            for name, value in member_record.fields.items():
                setattr(member, name, value)
            member_update_fields.update(member_record.fields)
            after = model_snapshot(member)
            if before != after:
                changed_members.append(member)
                touched.update((old_household_id, household.pk))
                if before["relation"] == Relation.HEAD and (
                    after["relation"] != Relation.HEAD or old_household_id != household.pk
                ):
                    former_heads.append(member)
                audit_rows.append(
                    audit_event(
                        actor=actor,
                        action=AuditAction.UPDATE,
                        target=member,
                        subject=_subject(household.pk),
                        before=before,
                        after=after,
                        extra=extra,
                    )
                )
            else:
                result.members_unchanged += 1
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)

    # The one-head-per-household constraint is checked row by row: former heads first step
    # down (a swap of heads inside a household, or between two, would clash otherwise).
    if former_heads:
        Member.objects.filter(pk__in=[m.pk for m in former_heads]).update(relation=Relation.OTHER)
    Member.objects.bulk_update(
        changed_members, sorted(member_update_fields), batch_size=WRITE_BATCH
    )
    _insert(new_members)
    ids = _fetch_pks(Member, "id_number_index", (m.id_number_index for m in new_members))
    for member in new_members:
        member.pk = ids[member.id_number_index]
        audit_rows.append(
            audit_event(
                actor=actor,
                action=AuditAction.CREATE,
                target=member,
                subject=_subject(member.household_id),
                after=model_snapshot(member),
                extra=extra,
            )
        )
    result.members_created = len(new_members)
    result.members_updated = len(changed_members)

    # New households got their derived fields before insert, unless members moved into them.
    new_ids = {h.pk for h in new_households}
    moved_in = {m.household_id for m in changed_members} & new_ids
    households_refresh_derived((touched - new_ids) | moved_in)
    _insert(audit_rows)
    return result


@transaction.atomic
def households_bulk_delete(
    *, actor: User | None, household_ids: list[int], source: str = ""
) -> int:
    """Delete households and their members in batches, with the audit rows of household_delete."""
    extra = {"source": source} if source else {}
    audit_rows: list[AuditEvent] = []
    deleted = 0
    for chunk in _chunks(sorted(set(household_ids)), LOOKUP_CHUNK):
        for household in Household.objects.filter(pk__in=chunk).prefetch_related("members"):
            subject = _subject(household.pk)
            for member in household.members.all():
                audit_rows.append(
                    audit_event(
                        actor=actor,
                        action=AuditAction.DELETE,
                        target=member,
                        before=model_snapshot(member),
                        subject=subject,
                        extra=extra,
                    )
                )
            audit_rows.append(
                audit_event(
                    actor=actor,
                    action=AuditAction.DELETE,
                    target=household,
                    before=model_snapshot(household),
                    subject=subject,
                    extra=extra,
                )
            )
            deleted += 1
        try:
            Household.objects.filter(pk__in=chunk).delete()
        except ProtectedError as exc:
            numbers = sorted(
                {str(getattr(obj, "household", obj)) for obj in exc.protected_objects}
            )[:5]
            raise ApplicationError(
                _("以下农户已有识别/风险消除流程、帮扶计划或研判、排查记录，不能删除：%(numbers)s")
                % {"numbers": "、".join(numbers)}
            ) from None
    _insert(audit_rows)
    return deleted


def households_refresh_derived(household_ids: Iterable[int]) -> None:
    """Recompute member count, head name and per-capita income for many households at once."""
    ids = sorted(set(household_ids))
    rows: list[tuple[int, str, Any, int]] = []
    income = Household._meta.get_field("per_capita_net_income")
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        counts = dict(
            Member.objects.filter(household_id__in=chunk)
            .order_by()
            .values_list("household_id")
            .annotate(n=Count("id"))
            .values_list("household_id", "n")
        )
        heads = dict(
            Member.objects.filter(Q(household_id__in=chunk) & Q(relation=Relation.HEAD))
            .order_by()
            .values_list("household_id", "name")
        )
        for values in (
            Household.objects.filter(pk__in=chunk)
            .order_by()
            .values("pk", "productive_expenses", *INCOME_FIELDS)
        ):
            household = Household(**values)
            count = counts.get(household.pk, 0)
            per_capita = household.compute_per_capita_net_income(count)
            rows.append(
                (
                    count,
                    heads.get(household.pk, ""),
                    income.get_db_prep_save(per_capita, connection),
                    household.pk,
                )
            )
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [
        Household._meta.get_field(name).column
        for name in ("member_count", "head_name", "per_capita_net_income")
    ]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(Household._meta.db_table),
        ", ".join(f"{quote(column)} = %s" for column in columns),
        quote(Household._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
