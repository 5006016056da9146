"""The registry snapshot: what leaves the database, in the engines' types, on every database
(PostgreSQL reads it through COPY, SQLite through the driver)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shouwang.registry import choices as c
from shouwang.registry.models import Household, Member
from shouwang.screening.engines.base import HOUSEHOLDS_SCHEMA, PERSONS_SCHEMA
from shouwang.screening.snapshot import registry_snapshot
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_snapshot_holds_persons_and_households_in_the_engine_schemas():
    working = f.make_household(members=3)
    Member.objects.filter(household=working, relation=c.Relation.SON).update(
        labour_skill=c.LabourSkill.NONE
    )
    idle = f.make_household(members=1)
    Member.objects.filter(household=idle).update(labour_skill=c.LabourSkill.NONE)
    # Cents survive either driver (SQLite hands back a float).
    Household.objects.filter(pk=idle.pk).update(per_capita_net_income=Decimal("6999.99"))

    snapshot = registry_snapshot()

    assert snapshot.persons.schema == PERSONS_SCHEMA
    assert snapshot.households.schema == HOUSEHOLDS_SCHEMA
    persons = {p["member_id"]: p for p in snapshot.persons.to_pylist()}
    for member in Member.objects.all():
        assert persons[member.pk] == {
            "person_index": member.id_number_index,
            "household_id": member.household_id,
            "member_id": member.pk,
            "labour_capable": member.labour_skill in c.LABOUR_CAPABLE,
        }
    households = {h["household_id"]: h for h in snapshot.households.to_pylist()}
    working.refresh_from_db()
    assert households[working.pk] == {
        "household_id": working.pk,
        "village_code": working.village_id,
        "household_type": working.household_type,
        "monitoring_status": working.monitoring_status,
        "labour_count": 1,
        "member_count": 3,
        "per_capita_net_income": working.per_capita_net_income,
        "income_year": 2025,
    }
    assert isinstance(households[working.pk]["per_capita_net_income"], Decimal)
    assert households[idle.pk]["labour_count"] == 0
    assert households[idle.pk]["per_capita_net_income"] == Decimal("6999.99")


def test_an_empty_registry_gives_empty_tables():
    snapshot = registry_snapshot()

    assert snapshot.persons.num_rows == 0
    assert snapshot.households.num_rows == 0
    assert snapshot.persons.schema == PERSONS_SCHEMA
    assert snapshot.households.schema == HOUSEHOLDS_SCHEMA
