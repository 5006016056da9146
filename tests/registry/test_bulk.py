from decimal import Decimal

import pytest

from shouwang.core.idnumber import parse_id_number
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as c
from shouwang.registry.bulk import (
    HouseholdRecord,
    MemberRecord,
    households_bulk_delete,
    registry_bulk_upsert,
)
from shouwang.registry.models import Household, Member
from tests import factories as f

pytestmark = pytest.mark.django_db


def _record(number: str, ids: list[str], wage: str = "20000") -> HouseholdRecord:
    members = [
        MemberRecord(
            id_number=parse_id_number(value),
            fields={
                "name": f"人{i}",
                "relation": c.Relation.HEAD if i == 0 else c.Relation.SON,
                "education": c.Education.PRIMARY,
                "labour_skill": c.LabourSkill.ORDINARY,
            },
        )
        for i, value in enumerate(ids)
    ]
    return HouseholdRecord(
        household_number=number,
        fields={
            "village_id": f.VILLAGE_A,
            "household_type": c.HouseholdType.ORDINARY,
            "income_year": 2025,
            "wage_income": Decimal(wage),
        },
        phone="13800001111",
        members=members,
    )


def test_upsert_creates_then_is_idempotent_then_updates(village_cadre):
    ids = [f.next_id_number(), f.next_id_number()]
    first = registry_bulk_upsert(actor=village_cadre, records=[_record("H1", ids)])
    assert (first.households_created, first.members_created) == (1, 2)
    household = Household.objects.get(household_number="H1")
    assert household.member_count == 2 and household.head_name == "人0"
    assert household.per_capita_net_income == Decimal("10000.00")
    events = AuditEvent.objects.filter(target_type__startswith="registry.").count()
    assert events == 3

    again = registry_bulk_upsert(actor=village_cadre, records=[_record("H1", ids)])
    assert not again.changed
    assert AuditEvent.objects.filter(target_type__startswith="registry.").count() == events

    changed = registry_bulk_upsert(actor=village_cadre, records=[_record("H1", ids, wage="30000")])
    assert changed.households_updated == 1 and changed.members_updated == 0
    household.refresh_from_db()
    assert household.per_capita_net_income == Decimal("15000.00")
    update = AuditEvent.objects.get(action="update")
    assert update.before["wage_income"] == "20000.00" and update.after["wage_income"] == "30000.00"
    assert Member.objects.count() == 2


def test_bulk_delete_removes_members_and_audits_each_record(village_cadre):
    keep = f.make_household(members=1)
    gone = [f.make_household(members=2), f.make_household(members=1)]
    deleted = households_bulk_delete(
        actor=village_cadre, household_ids=[h.pk for h in gone], source="demo"
    )
    assert deleted == 2
    assert list(Household.objects.all()) == [keep]
    assert Member.objects.count() == 1
    events = AuditEvent.objects.filter(action="delete", actor=village_cadre)
    assert (
        sorted(events.values_list("target_type", flat=True))
        == ["registry.household"] * 2 + ["registry.member"] * 3
    )
    assert {e.subject for e in events} == {f"registry.household:{h.pk}" for h in gone}
    assert all(e.extra == {"source": "demo"} and e.before for e in events)
