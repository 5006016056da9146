"""The to-do list: each user sees what waits on them, and only that."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.cases.choices import CaseVerb, LeadChannel
from shouwang.cases.services import case_open, lead_create
from shouwang.registry import choices as rc
from shouwang.workplace.todo import todo_groups
from tests import factories as f
from tests.cases.steps import APPLICATION, DAY0, HOME_VISIT, IDENTIFICATION_PATH, act, walk

pytestmark = pytest.mark.django_db

TODAY = DAY0 + dt.timedelta(days=3)


@pytest.fixture
def users(village_cadre, township_staff, district_staff, department_officer):
    return {
        "village_cadre": village_cadre,
        "township_staff": township_staff,
        "district_staff": district_staff,
        "department_officer": department_officer,
    }


def _totals(actor) -> dict[str, int]:
    return {g.key: g.total for g in todo_groups(actor=actor, today=TODAY)}


def _case(users, **household):
    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY, **household)
    lead = lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主住院",
        received_on=DAY0,
    )
    return case_open(actor=users["village_cadre"], lead=lead, today=DAY0)


def test_a_case_waits_on_the_level_of_its_current_step(users):
    case = _case(users)
    assert _totals(users["village_cadre"])["cases"] == 1
    assert "cases" not in _totals(users["township_staff"])
    case = walk(case, IDENTIFICATION_PATH, users, until=CaseVerb.TOWNSHIP_APPROVE)
    assert "cases" not in _totals(users["village_cadre"])
    assert _totals(users["township_staff"])["cases"] == 1
    assert "cases" not in _totals(users["district_staff"])


def test_open_leads_wait_on_the_village_and_the_district_only_places_unplaced_ones(users):
    household = f.make_household(f.VILLAGE_A)
    lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.WHISTLEBLOWER,
        division=household.village,
        household=household,
        description="邻居反映突发重病",
        received_on=DAY0,
    )
    groups = {g.key: g for g in todo_groups(actor=users["village_cadre"], today=TODAY)}
    assert groups["leads"].total == 1
    item = groups["leads"].items[0]
    assert item.due_on == DAY0 + dt.timedelta(days=15) and item.days_left == 12
    assert "leads" not in _totals(users["district_staff"])


def test_village_cadres_owe_the_months_meeting_and_the_quarters_reviews(users):
    f.make_household(
        f.VILLAGE_A,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202601",
        risk_type_1=rc.RiskType.ILLNESS,
    )
    totals = _totals(users["village_cadre"])
    assert totals["meetings"] == 1 and totals["reviews"] == 1
    assert "meetings" not in _totals(users["district_staff"])


def test_department_officers_have_no_village_to_dos(users):
    _case(users)
    assert todo_groups(actor=users["department_officer"], today=TODAY) == []


def test_the_page_and_the_home_strip(client, users):
    case = _case(users)
    act(actor=users["village_cadre"], case=case, verb=CaseVerb.APPLY, data=APPLICATION)
    act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    client.force_login(users["village_cadre"])
    page = client.get(reverse("workplace:todo")).content.decode()
    assert "我的待办" in page and reverse("cases:case_detail", args=[case.pk]) in page
    home = client.get(reverse("home")).content.decode()
    assert "待办理的识别/消除步骤" in home and reverse("workplace:todo") in home
    client.force_login(users["department_officer"])
    assert "目前没有等待您办理的事项" in client.get(reverse("workplace:todo")).content.decode()


# -- assistance measures ------------------------------------------------------------------


def _measures(village: str, *plans: tuple[str, dt.date, str]):
    """A monitored household of ``village`` with (measure name, planned end, status) each."""
    from shouwang.assistance.models import Measure
    from shouwang.assistance.services import plan_accept, plan_measure_progress
    from tests.cases.routine_helpers import monitored

    household = monitored(village)
    items = [
        {
            "measure": Measure.objects.get(name=name),
            "planned_start": DAY0 - dt.timedelta(days=60),
            "planned_end": end,
        }
        for name, end, _status in plans
    ]
    plan = plan_accept(actor=None, household=household, items=items, today=DAY0)
    measures = {pm.measure.name: pm for pm in plan.measures.select_related("measure")}
    for name, _end, status in plans:
        if status != "planned":
            plan_measure_progress(
                actor=None, plan_measure=measures[name], status=status, today=TODAY
            )
    return measures


def test_overdue_and_this_months_measures_wait_on_planners_in_their_area(users):
    mine = _measures(
        f.VILLAGE_A,
        ("医疗救助", TODAY - dt.timedelta(days=5), "planned"),  # overdue
        ("农村危房改造", dt.date(2026, 11, 30), "in_progress"),  # due this month
        ("参保资助", TODAY - dt.timedelta(days=9), "delivered"),  # done: no to-do
        ("家庭医生签约服务", dt.date(2026, 12, 1), "planned"),  # next month
    )
    _measures(f.VILLAGE_OTHER_TOWNSHIP, ("医疗救助", TODAY - dt.timedelta(days=1), "planned"))

    groups = {g.key: g for g in todo_groups(actor=users["village_cadre"], today=TODAY)}

    assert groups["overdue_measures"].label == "逾期帮扶措施"
    [overdue] = groups["overdue_measures"].items
    assert overdue.title.startswith("医疗救助：")
    assert overdue.url == reverse("assistance:measure_detail", args=[mine["医疗救助"].pk])
    assert (overdue.urgency, overdue.days_over) == ("overdue", 5)
    assert "医保局" in overdue.detail and "计划中" in overdue.detail
    [due] = groups["due_measures"].items
    assert due.title.startswith("农村危房改造：") and due.days_left == 25
    assert groups["overdue_measures"].more_url == reverse("assistance:overdue")
    assert _totals(users["township_staff"])["overdue_measures"] == 1
    assert _totals(users["district_staff"])["overdue_measures"] == 2


def test_department_officers_see_their_departments_measures_only(users):
    _case(users)  # a village to-do, none of the department's business
    _measures(
        f.VILLAGE_A,
        ("医疗救助", TODAY - dt.timedelta(days=2), "planned"),  # 医保局: the officer's
        ("农村危房改造", TODAY - dt.timedelta(days=3), "planned"),  # 住建委
        ("参保资助", TODAY + dt.timedelta(days=3), "planned"),  # 医保局, due this month
    )
    officer = users["department_officer"]

    groups = todo_groups(actor=officer, today=TODAY)

    assert [(g.key, g.total) for g in groups] == [("overdue_measures", 1), ("due_measures", 1)]
    assert groups[0].items[0].title.startswith("医疗救助：")


def test_department_officers_open_the_page_and_see_the_measure_groups(users, client):
    _case(users)
    today = timezone.localdate()
    _measures(
        f.VILLAGE_A,
        ("医疗救助", today - dt.timedelta(days=2), "planned"),
        ("参保资助", today, "planned"),  # due today: this month
    )
    client.force_login(users["department_officer"])

    page = client.get(reverse("workplace:todo"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "逾期帮扶措施" in html and "本月到期措施" in html and "已超时限 2 天" in html
    assert "今天到期" in html
    assert "待办理的识别/消除步骤" not in html
    home = client.get(reverse("home")).content.decode()
    assert "逾期帮扶措施" in home and reverse("workplace:todo") in home


def test_todo_queries_do_not_grow_with_measures(users, client, django_assert_max_num_queries):
    _measures(f.VILLAGE_A, ("医疗救助", TODAY - dt.timedelta(days=5), "planned"))
    client.force_login(users["department_officer"])
    client.get(reverse("workplace:todo"))
    with django_assert_max_num_queries(30) as captured:
        client.get(reverse("workplace:todo"))
    for _ in range(3):
        _measures(f.VILLAGE_A, ("医疗救助", TODAY - dt.timedelta(days=5), "planned"))
    with django_assert_max_num_queries(len(captured)):
        assert client.get(reverse("workplace:todo")).status_code == 200
