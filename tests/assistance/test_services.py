"""Plans and delivery through the services: who may, in which area, which status moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shouwang.assistance.choices import MeasureSource, MeasureStatus
from shouwang.assistance.models import Measure, PlanMeasure
from shouwang.assistance.selectors import (
    household_proposals,
    overdue_measures,
    plan_measure_list,
)
from shouwang.assistance.services import (
    measure_save,
    plan_accept,
    plan_measure_progress,
    plan_measure_update,
    rule_save,
)
from shouwang.cases.criteria import elimination_criteria
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)


def _monitored(village=f.VILLAGE_A, **data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    return f.make_household(village, **{**fields, **data})


def _measure(name: str) -> Measure:
    return Measure.objects.get(name=name)


def _planned(household, actor=None, name="医疗救助", **item) -> PlanMeasure:
    plan = plan_accept(
        actor=actor, household=household, items=[{"measure": _measure(name), **item}], today=TODAY
    )
    return plan.measures.get(measure__name=name)


def test_accepting_proposals_keeps_rule_and_reason(village_cadre):
    household = _monitored()
    f.make_member(
        household,
        name="病人",
        relation=rc.Relation.FATHER,
        health_status=rc.HealthStatus.SERIOUS_ILLNESS,
    )
    proposals = household_proposals(household=household, today=TODAY)
    items = [
        {"measure": p.measure, "member": p.member, "rule": p.rule, "reason": p.reason}
        for p in proposals
    ]

    plan = plan_accept(actor=village_cadre, household=household, items=items, today=TODAY)

    rows = list(plan.measures.order_by("id"))
    assert [r.measure.name for r in rows] == [p.measure.name for p in proposals]
    first = rows[0]
    assert first.source == MeasureSource.RECOMMENDED
    assert first.rule_name == "因病：患病成员医疗救助"
    assert "病人" in first.reason
    assert first.department == "medical_insurance"
    assert first.planned_end == TODAY + dt.timedelta(days=90)
    assert plan.accepted_by == village_cadre
    events = AuditEvent.objects.filter(subject=f"registry.household:{household.pk}")
    assert events.filter(target_type="assistance.planmeasure").count() == len(rows)
    assert events.filter(target_type="assistance.plan", actor=village_cadre).exists()


def test_a_household_not_monitored_gets_no_plan(village_cadre):
    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    with pytest.raises(ApplicationError, match="尚未纳入监测"):
        _planned(household, village_cadre)


def test_the_green_channel_lets_help_start_before_the_procedure_ends(village_cadre):
    from shouwang.cases.choices import LeadChannel
    from shouwang.cases.services import case_open, lead_create

    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    lead = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="房屋垮塌",
        received_on=TODAY,
    )
    case_open(
        actor=village_cadre,
        lead=lead,
        green_channel=True,
        green_channel_reason="暴雨致房屋垮塌",
        today=TODAY,
    )

    pm = _planned(household, village_cadre, name="受灾人员救助")

    assert pm.status == MeasureStatus.PLANNED


@pytest.mark.parametrize(
    ("role", "divisions", "allowed"),
    [
        (Role.VILLAGE_CADRE, [f.VILLAGE_A], True),
        (Role.VILLAGE_CADRE, [f.VILLAGE_B], False),
        (Role.TOWNSHIP_STAFF, [f.TOWNSHIP_HUOLU], True),
        (Role.TOWNSHIP_STAFF, ["500156001000"], False),
        (Role.DISTRICT_STAFF, [f.COUNTY_WULONG], True),
        (Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], False),
    ],
)
def test_who_may_plan(role, divisions, allowed):
    actor = f.make_user(f"user-{role}-{divisions[0]}", role, divisions, department="civil_affairs")
    household = _monitored()
    if allowed:
        assert _planned(household, actor).pk
    else:
        with pytest.raises(PermissionDenied):
            _planned(household, actor)
        assert not PlanMeasure.objects.exists()


def test_the_same_measure_is_not_planned_twice(village_cadre):
    household = _monitored()
    _planned(household, village_cadre)
    with pytest.raises(ApplicationError, match="计划中已有措施“医疗救助”"):
        _planned(household, village_cadre)


def test_a_member_of_another_household_is_refused(village_cadre):
    household = _monitored()
    stranger = f.make_household(f.VILLAGE_A).members.first()
    with pytest.raises(ApplicationError, match="不是该户成员"):
        _planned(household, village_cadre, member=stranger)


def test_planned_dates_in_the_wrong_order_are_refused(village_cadre):
    household = _monitored()
    with pytest.raises(ApplicationError, match="计划完成日期不能早于计划开始日期"):
        _planned(
            household,
            village_cadre,
            planned_start=TODAY,
            planned_end=TODAY - dt.timedelta(days=1),
        )


# -- delivery ---------------------------------------------------------------------------------

MOVES = [
    (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, True),
    (MeasureStatus.PLANNED, MeasureStatus.DELIVERED, True),
    (MeasureStatus.PLANNED, MeasureStatus.STOPPED, True),
    (MeasureStatus.IN_PROGRESS, MeasureStatus.DELIVERED, True),
    (MeasureStatus.IN_PROGRESS, MeasureStatus.STOPPED, True),
    (MeasureStatus.IN_PROGRESS, MeasureStatus.PLANNED, False),
    (MeasureStatus.DELIVERED, MeasureStatus.IN_PROGRESS, False),
    (MeasureStatus.DELIVERED, MeasureStatus.STOPPED, False),
    (MeasureStatus.DELIVERED, MeasureStatus.DELIVERED, False),
    (MeasureStatus.STOPPED, MeasureStatus.PLANNED, False),
    (MeasureStatus.STOPPED, MeasureStatus.DELIVERED, False),
]


@pytest.mark.parametrize(("start", "target", "allowed"), MOVES)
def test_status_moves(department_officer, start, target, allowed):
    pm = _planned(_monitored())
    note = {"status_note": "情况说明"}
    if start != MeasureStatus.PLANNED:
        if start == MeasureStatus.DELIVERED:
            plan_measure_progress(
                actor=None, plan_measure=pm, status=MeasureStatus.IN_PROGRESS, today=TODAY
            )
        plan_measure_progress(actor=None, plan_measure=pm, status=start, data=note, today=TODAY)
    if allowed:
        pm = plan_measure_progress(
            actor=department_officer, plan_measure=pm, status=target, data=note, today=TODAY
        )
        assert pm.status == target
        assert pm.updated_by == department_officer
    else:
        with pytest.raises(ApplicationError):
            plan_measure_progress(
                actor=department_officer, plan_measure=pm, status=target, data=note, today=TODAY
            )


def test_delivery_records_dates_amount_and_an_audit_row(department_officer):
    household = _monitored()
    pm = _planned(household)

    pm = plan_measure_progress(
        actor=department_officer,
        plan_measure=pm,
        status=MeasureStatus.DELIVERED,
        data={"amount": Decimal("3200"), "actual_end": TODAY - dt.timedelta(days=2)},
        today=TODAY,
    )

    assert pm.actual_end == TODAY - dt.timedelta(days=2)
    assert pm.actual_start == pm.actual_end
    event = AuditEvent.objects.filter(
        target_type="assistance.planmeasure", target_id=str(pm.pk), actor=department_officer
    ).get()
    assert event.before["status"] == "planned" and event.after["status"] == "delivered"
    assert event.after["amount"] == "3200.00"
    assert event.subject == f"registry.household:{household.pk}"


def test_stopping_needs_a_reason_and_dates_cannot_be_in_the_future(department_officer):
    pm = _planned(_monitored())
    with pytest.raises(ApplicationError, match="终止措施须说明原因"):
        plan_measure_progress(
            actor=department_officer, plan_measure=pm, status=MeasureStatus.STOPPED, today=TODAY
        )
    with pytest.raises(ApplicationError, match="实际日期不能晚于今天"):
        plan_measure_progress(
            actor=department_officer,
            plan_measure=pm,
            status=MeasureStatus.DELIVERED,
            data={"actual_end": TODAY + dt.timedelta(days=1)},
            today=TODAY,
        )
    pm.refresh_from_db()
    assert pm.status == MeasureStatus.PLANNED


def test_a_department_updates_only_its_own_measures():
    civil = f.make_user(
        "dept-civil", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="civil_affairs"
    )
    pm = _planned(_monitored())  # 医疗救助: 医保局
    with pytest.raises(PermissionDenied):
        plan_measure_progress(
            actor=civil, plan_measure=pm, status=MeasureStatus.DELIVERED, today=TODAY
        )
    assert pm not in plan_measure_list(actor=civil)


def test_department_officers_see_their_department_across_the_district(department_officer):
    here = _planned(_monitored(f.VILLAGE_A))
    there = _planned(_monitored(f.VILLAGE_OTHER_TOWNSHIP))
    other_department = _planned(_monitored(), name="低保")

    visible = set(plan_measure_list(actor=department_officer))

    assert {here, there} <= visible
    assert other_department not in visible


def test_planners_edit_open_measures_only(village_cadre, department_officer):
    pm = _planned(_monitored(), village_cadre)
    pm = plan_measure_update(
        actor=village_cadre, plan_measure=pm, data={"responsible_person": "王医生"}
    )
    assert pm.responsible_person == "王医生"
    with pytest.raises(PermissionDenied):
        plan_measure_update(actor=department_officer, plan_measure=pm, data={"amount": 1})
    with pytest.raises(ApplicationError, match="不能修改的字段"):
        plan_measure_update(actor=village_cadre, plan_measure=pm, data={"status": "delivered"})
    plan_measure_progress(
        actor=village_cadre, plan_measure=pm, status=MeasureStatus.DELIVERED, today=TODAY
    )
    with pytest.raises(ApplicationError, match="已落实"):
        plan_measure_update(actor=village_cadre, plan_measure=pm, data={"responsible_person": "x"})


def test_overdue_measures_are_those_still_owed_past_their_date(village_cadre):
    household = _monitored()
    late = _planned(
        household,
        name="医疗救助",
        planned_start=TODAY - dt.timedelta(days=40),
        planned_end=TODAY - dt.timedelta(days=1),
    )
    due_today = _planned(household, name="低保", planned_start=TODAY, planned_end=TODAY)
    done = _planned(
        household,
        name="临时救助",
        planned_start=TODAY - dt.timedelta(days=40),
        planned_end=TODAY - dt.timedelta(days=3),
    )
    plan_measure_progress(
        actor=None, plan_measure=done, status=MeasureStatus.DELIVERED, today=TODAY
    )

    overdue = list(overdue_measures(actor=village_cadre, today=TODAY))

    assert overdue == [late]
    assert due_today not in overdue


# -- the elimination criterion -----------------------------------------------------------------


def test_the_elimination_check_counts_delivered_measures_only(department_officer):
    household = _monitored()
    pm = _planned(household)

    def measure_criterion():
        return next(c for c in elimination_criteria(household, today=TODAY) if c.key == "measures")

    assert not measure_criterion().met
    plan_measure_progress(
        actor=department_officer, plan_measure=pm, status=MeasureStatus.IN_PROGRESS, today=TODAY
    )
    assert not measure_criterion().met
    plan_measure_progress(
        actor=department_officer, plan_measure=pm, status=MeasureStatus.DELIVERED, today=TODAY
    )
    criterion = measure_criterion()
    assert criterion.met
    assert "医疗救助" in criterion.detail


# -- catalogue and rules -------------------------------------------------------------------------


def test_only_district_administrators_maintain_the_catalogue(district_admin, district_staff):
    measure = _measure("技能培训")
    with pytest.raises(PermissionDenied):
        measure_save(actor=district_staff, measure=measure, data={"unit": "次"})
    with pytest.raises(ApplicationError, match="既是开发式帮扶又是兜底保障"):
        measure_save(actor=district_admin, measure=measure, data={"backstop": True})
    measure = measure_save(actor=district_admin, measure=measure, data={"unit": "次"})
    assert measure.unit == "次"
    assert AuditEvent.objects.filter(
        target_type="assistance.measure", actor=district_admin
    ).exists()


def test_rule_conditions_are_validated(district_admin):
    from shouwang.assistance.models import RecommendationRule

    rule = RecommendationRule.objects.get(name="因病：患病成员医疗救助")
    with pytest.raises(ApplicationError, match="年龄下限不能大于上限"):
        rule_save(
            actor=district_admin, rule=rule, data={"member_age_min": 60, "member_age_max": 18}
        )
    with pytest.raises(ApplicationError, match="至少设置一项成员条件"):
        rule_save(
            actor=district_admin,
            rule=rule,
            data={"per_member": True, "member_health_statuses": []},
        )
    with pytest.raises(ApplicationError):
        rule_save(actor=district_admin, rule=rule, data={"risk_types": ["not-a-risk"]})
