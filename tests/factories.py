"""Test data builders. They go through the registry services, as real writes do."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from shouwang.core.choices import Role
from shouwang.core.idnumber import make_id_number
from shouwang.core.models import Division, User
from shouwang.registry import choices as c
from shouwang.registry.models import Household, Member
from shouwang.registry.services import household_create, member_create

#: Two villages of 火炉镇 and one of 江口镇 (all loaded by the test database setup).
VILLAGE_A = "500156104200"  # 向前村
VILLAGE_B = "500156104001"  # 火炉社区
VILLAGE_OTHER_TOWNSHIP = "500156001200"  # 凤山街道 芋荷村
TOWNSHIP_HUOLU = "500156104000"
COUNTY_WULONG = "500156000000"

_sequence = itertools.count(1)


def next_id_number(
    *, address: str = "500156", birth: dt.date = dt.date(1980, 5, 17), male: bool = True
) -> str:
    n = next(_sequence) % 499
    seq = n * 2 + (1 if male else 0)
    return make_id_number(address, birth, seq % 1000)


def make_user(
    username: str, role: str = Role.VILLAGE_CADRE, divisions: list[str] = (), **extra: Any
) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests", role=role, **extra)
    user.divisions.set(Division.objects.filter(code__in=divisions))
    return user


_household_numbers = itertools.count(1)


def make_household(village: str = VILLAGE_A, *, members: int = 2, **data: Any) -> Household:
    fields: dict[str, Any] = {
        "household_number": f"T{next(_household_numbers):08d}",
        "village_id": village,
        "household_type": c.HouseholdType.POVERTY_EXITED,
        "income_year": 2025,
        "wage_income": Decimal("30000"),
        "operating_income": Decimal("5000"),
        "transfer_income": Decimal("2000"),
    }
    phone = data.pop("phone", "13912345678")
    fields.update(data)
    household = household_create(actor=None, data=fields, phone=phone)
    for i in range(members):
        make_member(
            household, relation=c.Relation.HEAD if i == 0 else c.Relation.SON, name=f"成员{i}"
        )
    household.refresh_from_db()
    return household


def make_member(household: Household, *, id_number: str | None = None, **data: Any) -> Member:
    fields: dict[str, Any] = {
        "name": "张三",
        "relation": c.Relation.HEAD,
        "education": c.Education.JUNIOR,
        "labour_skill": c.LabourSkill.ORDINARY,
    }
    fields.update(data)
    return member_create(
        actor=None, household=household, id_number=id_number or next_id_number(), data=fields
    )


def deliver_measure(
    household: Household, *, measure_name: str = "医疗救助", actor: Any = None
) -> Any:
    """Put one catalogue measure in ``household``'s plan and mark it delivered, through the
    assistance services (the risk-elimination check counts delivered measures)."""
    from shouwang.assistance.choices import MeasureStatus
    from shouwang.assistance.models import Measure
    from shouwang.assistance.services import plan_accept, plan_measure_progress

    measure = Measure.objects.get(name=measure_name)
    plan = plan_accept(actor=actor, household=household, items=[{"measure": measure}])
    pm = plan.measures.get(measure=measure)
    return plan_measure_progress(actor=actor, plan_measure=pm, status=MeasureStatus.DELIVERED)
