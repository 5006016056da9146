"""Policy value services: district administrators only, every problem reported, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.policy.models import PolicyValue
from shouwang.policy.selectors import policy_value
from shouwang.policy.services import (
    policy_value_create,
    policy_value_delete,
    policy_value_update,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

CHONGQING = "500000000000"


def _division(code: str) -> Division:
    return Division.objects.get(code=code)


def _problems(info: pytest.ExceptionInfo[ApplicationError]) -> dict[str, str]:
    return info.value.extra["fields"]


def test_create_a_county_value_that_lookups_then_prefer(district_admin):
    row = policy_value_create(
        actor=district_admin,
        parameter="rural_disposable_income",
        division=_division(f.COUNTY_WULONG),
        year=2025,
        value="19850.5",
        source="武隆区统计公报",
        note=" 区县口径 ",
    )
    assert row.value == Decimal("19850.5") and row.note == "区县口径"
    assert row.updated_by == district_admin
    assert policy_value("rural_disposable_income", year=2026, division_code=f.VILLAGE_A) == Decimal(
        "19850.5"
    )
    event = AuditEvent.objects.get(target_type="policy.policyvalue", action=AuditAction.CREATE)
    assert event.actor == district_admin and event.after["value"] == "19850.5000"


def test_only_district_admins_write(district_staff, department_officer, village_cadre):
    row = PolicyValue.objects.get(parameter="monitoring_line", year=2024, division=None)
    for user in (district_staff, department_officer, village_cadre):
        with pytest.raises(PermissionDenied):
            policy_value_create(
                actor=user, parameter="monitoring_line", division=None, year=2030, value="9000"
            )
        with pytest.raises(PermissionDenied):
            policy_value_update(
                actor=user,
                policy_value=row,
                parameter="monitoring_line",
                division=None,
                year=2024,
                value="1",
            )
        with pytest.raises(PermissionDenied):
            policy_value_delete(actor=user, policy_value=row)
    assert PolicyValue.objects.get(pk=row.pk).value == Decimal("8800")


def test_every_problem_is_reported_at_once(district_admin):
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin,
            parameter="poverty_line_typo",
            division=_division(f.VILLAGE_A),
            year=1990,
            value="-3",
            source="x" * 501,
        )
    problems = _problems(info)
    assert set(problems) == {"parameter", "division", "year", "value", "source"}
    assert "不存在" in problems["parameter"]
    assert "只能是省级或区县级" in problems["division"] and "村（社区）" in problems["division"]
    assert "2000 到 2100" in problems["year"]
    assert "不能为负数" in problems["value"]
    assert info.value.extra["errors"] == list(problems.values())
    assert not PolicyValue.objects.filter(parameter="poverty_line_typo").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "数值无效"),
        ("12345678901", "最多 10 位整数"),
        ("1.23456", "4 位小数"),
        ("NaN", "数值无效"),
    ],
)
def test_values_must_be_numbers_the_column_holds(district_admin, value, message):
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin, parameter="monitoring_line", division=None, year=2031, value=value
        )
    assert message in _problems(info)["value"]


def test_townships_are_not_policy_divisions_but_provinces_are(district_admin):
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin,
            parameter="monitoring_line",
            division=_division(f.TOWNSHIP_HUOLU),
            year=2026,
            value="9000",
        )
    assert "乡镇" in _problems(info)["division"]
    row = policy_value_create(
        actor=district_admin,
        parameter="monitoring_line",
        division=_division(CHONGQING),
        year=2026,
        value="9000",
    )
    assert policy_value("monitoring_line", year=2026, division_code=f.VILLAGE_A) == 9000
    assert row.division_id == CHONGQING


def test_duplicates_are_refused_including_empty_division_and_year(district_admin):
    # The seeded national screening day has no division and no year.
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin, parameter="screening_day", division=None, year=None, value="8"
        )
    assert "全国" in info.value.message and "已有数值" in info.value.message
    with pytest.raises(ApplicationError):
        policy_value_create(
            actor=district_admin, parameter="monitoring_line", division=None, year=2024, value="1"
        )
    county = _division(f.COUNTY_WULONG)
    policy_value_create(
        actor=district_admin, parameter="screening_day", division=county, year=None, value="8"
    )
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin, parameter="screening_day", division=county, year=None, value="9"
        )
    assert county.name in info.value.message
    assert PolicyValue.objects.filter(parameter="screening_day").count() == 2


def test_a_parameter_without_years_takes_no_year(district_admin):
    with pytest.raises(ApplicationError) as info:
        policy_value_create(
            actor=district_admin,
            parameter="screening_day",
            division=_division(f.COUNTY_WULONG),
            year=2026,
            value="8",
        )
    assert "不分年度" in _problems(info)["year"]


def test_update_is_audited_checks_clashes_and_skips_no_op(district_admin):
    row = PolicyValue.objects.get(parameter="monitoring_line", year=2024, division=None)
    fields = {
        "parameter": "monitoring_line",
        "division": None,
        "source": row.source,
        "note": row.note,
    }
    with pytest.raises(ApplicationError) as info:
        policy_value_update(
            actor=district_admin, policy_value=row, year=2023, value="8800", **fields
        )
    assert "2023 年已有数值" in info.value.message

    same = policy_value_update(
        actor=district_admin, policy_value=row, year=2024, value="8800.00", **fields
    )
    assert same.updated_by is None
    assert not AuditEvent.objects.filter(target_type="policy.policyvalue").exists()

    changed = policy_value_update(
        actor=district_admin, policy_value=row, year=2024, value="8900", **fields
    )
    assert changed.value == Decimal("8900") and changed.updated_by == district_admin
    event = AuditEvent.objects.get(target_type="policy.policyvalue", action=AuditAction.UPDATE)
    assert event.before["value"] == "8800.0000" and event.after["value"] == "8900.0000"
    assert event.target_id == str(row.pk)


def test_delete_is_audited(district_admin):
    row = PolicyValue.objects.get(parameter="monitoring_line", year=2021, division=None)
    pk = row.pk
    policy_value_delete(actor=district_admin, policy_value=row)
    assert not PolicyValue.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(target_type="policy.policyvalue", action=AuditAction.DELETE)
    assert event.target_id == str(pk) and event.before["value"] == "6000.0000"
    assert event.actor == district_admin
