"""The to-do list: each user sees what waits on them, and only that."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shouwang.cases.choices import CaseVerb, LeadChannel
from shouwang.cases.services import case_act, case_open, lead_create
from shouwang.cases.todo import todo_groups
from shouwang.registry import choices as rc
from tests import factories as f
from tests.cases.steps import APPLICATION, DAY0, HOME_VISIT, IDENTIFICATION_PATH, walk

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
    case_act(actor=users["village_cadre"], case=case, verb=CaseVerb.APPLY, data=APPLICATION)
    case_act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    client.force_login(users["village_cadre"])
    page = client.get(reverse("cases:todo")).content.decode()
    assert "我的待办" in page and reverse("cases:case_detail", args=[case.pk]) in page
    home = client.get(reverse("home")).content.decode()
    assert "待办理的识别/消除步骤" in home and reverse("cases:todo") in home
    client.force_login(users["department_officer"])
    assert "目前没有等待您办理的事项" in client.get(reverse("cases:todo")).content.decode()
