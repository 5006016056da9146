"""Bulk upsert of households and members, for imports and the demo district.

Callers validate first (field values already clean, ID numbers already parsed); this module
writes in batches inside one transaction: households upserted by household number, members
by the blind index of their ID number, derived household fields recomputed, and one audit row
per created or changed record. Members already registered but absent from the records are
left alone: an import never deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, Q

from shouwang.core import crypto
from shouwang.core.audit import audit_fields, model_snapshot
from shouwang.core.choices import AuditAction
from shouwang.core.idnumber import IdNumber
from shouwang.core.models import AuditEvent, User
from shouwang.registry.choices import Relation
from shouwang.registry.models import Household, Member
from shouwang.registry.services import HOUSEHOLD_EDITABLE, MEMBER_EDITABLE, set_phone

#: Rows per query when looking up existing records (well under SQLite's variable limit).
LOOKUP_CHUNK = 500
WRITE_BATCH = 1000

T = TypeVar("T")
Progress = Callable[[int, int], None]


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
        for obj in model.objects.filter(**{f"{key}__in": chunk}):
            found[getattr(obj, key)] = obj
    return found


def _subject(household_id: int) -> str:
    return f"registry.household:{household_id}"


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
    for record in records:
        unknown = set(record.fields) - HOUSEHOLD_EDITABLE
        if unknown:
            raise ValueError(f"unknown household fields: {sorted(unknown)}")
        household = existing_households.get(record.household_number)
        if household is None:
            household = Household(household_number=record.household_number, **record.fields)
            set_phone(household, record.phone)
            new_households.append(household)
            continue
        before = model_snapshot(household)
        for name, value in record.fields.items():
            setattr(household, name, value)
        if record.phone and household.phone_index != crypto.blind_index(record.phone):
            set_phone(household, record.phone)
        after = model_snapshot(household)
        if before != after:
            changed_households.append(household)
            audit_rows.append(
                AuditEvent(
                    **audit_fields(
                        actor=actor,
                        action=AuditAction.UPDATE,
                        target=household,
                        before=before,
                        after=after,
                        extra=extra,
                    )
                )
            )
        else:
            result.households_unchanged += 1

    Household.objects.bulk_create(new_households, batch_size=WRITE_BATCH)
    if not all(h.pk for h in new_households):  # backends without RETURNING ids
        ids = _fetch(Household, "household_number", (h.household_number for h in new_households))
        for h in new_households:
            h.pk = ids[h.household_number].pk
    for household in new_households:
        audit_rows.append(
            AuditEvent(
                **audit_fields(
                    actor=actor,
                    action=AuditAction.CREATE,
                    target=household,
                    after=model_snapshot(household),
                    extra=extra,
                )
            )
        )
    household_update_fields = sorted(
        {f for r in records for f in r.fields}
        | {"phone_encrypted", "phone_index", "phone_masked", "updated_at"}
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
                continue
            before = model_snapshot(member)
            member.household_id = household.pk
            for name, value in member_record.fields.items():
                setattr(member, name, value)
            member_update_fields.update(member_record.fields)
            after = model_snapshot(member)
            if before != after:
                changed_members.append(member)
                audit_rows.append(
                    AuditEvent(
                        **audit_fields(
                            actor=actor,
                            action=AuditAction.UPDATE,
                            target=member,
                            subject=_subject(household.pk),
                            before=before,
                            after=after,
                            extra=extra,
                        )
                    )
                )
            else:
                result.members_unchanged += 1
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)

    # Members that change household or role first leave their old head slot, so the
    # one-head-per-household constraint holds at every statement.
    Member.objects.bulk_update(
        changed_members, sorted(member_update_fields), batch_size=WRITE_BATCH
    )
    Member.objects.bulk_create(new_members, batch_size=WRITE_BATCH)
    if new_members and not all(m.pk for m in new_members):
        ids = _fetch(Member, "id_number_index", (m.id_number_index for m in new_members))
        for m in new_members:
            m.pk = ids[m.id_number_index].pk
    for member in new_members:
        audit_rows.append(
            AuditEvent(
                **audit_fields(
                    actor=actor,
                    action=AuditAction.CREATE,
                    target=member,
                    subject=_subject(member.household_id),
                    after=model_snapshot(member),
                    extra=extra,
                )
            )
        )
    result.members_created = len(new_members)
    result.members_updated = len(changed_members)

    touched = {households_by_number[r.household_number].pk for r in records}
    touched |= {m.household_id for m in changed_members}
    households_refresh_derived(touched)
    AuditEvent.objects.bulk_create(audit_rows, batch_size=WRITE_BATCH)
    return result


def households_refresh_derived(household_ids: Iterable[int]) -> None:
    """Recompute member count, head name and per-capita income for many households at once."""
    ids = sorted(set(household_ids))
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        counts = dict(
            Member.objects.filter(household_id__in=chunk)
            .values_list("household_id")
            .annotate(n=Count("id"))
            .values_list("household_id", "n")
        )
        heads = dict(
            Member.objects.filter(
                Q(household_id__in=chunk) & Q(relation=Relation.HEAD)
            ).values_list("household_id", "name")
        )
        households = list(Household.objects.filter(pk__in=chunk))
        for household in households:
            household.member_count = counts.get(household.pk, 0)
            household.head_name = heads.get(household.pk, "")
            household.per_capita_net_income = household.compute_per_capita_net_income(
                household.member_count
            )
        Household.objects.bulk_update(
            households,
            ["member_count", "head_name", "per_capita_net_income"],
            batch_size=WRITE_BATCH,
        )
