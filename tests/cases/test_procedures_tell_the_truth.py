"""A criterion shown as met is met by the figures recorded in the same record, and no step form
asks for what Shouwang already holds.

Each test covers a class of defect: the elimination criteria on table-driven visit figures,
registry flags that keep an identified risk open, the candidate list and the meeting agenda,
what step forms start with, required fields and attachments, and the public status page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.cases import workflow
from shouwang.cases.choices import CaseKind, CaseState, CaseVerb, LeadChannel
from shouwang.cases.forms import step_form
from shouwang.cases.lead_selectors import PublicStage, application_status
from shouwang.cases.routine_forms import MeetingForm
from shouwang.cases.routine_selectors import meeting_agenda
from shouwang.cases.routine_services import meeting_create
from shouwang.cases.services import case_open, elimination_open, lead_create, lead_self_apply
from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import AuditEvent, Division
from shouwang.policy.models import PolicyValue
from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from tests import factories as f
from tests.cases.routine_helpers import ALL_DECISIONS
from tests.cases.steps import (
    DAY0,
    ELIMINATION_VISIT,
    IDENTIFICATION_PATH,
    NOMINATION,
    OPINION,
    REVIEW,
    act,
    walk,
)

pytestmark = pytest.mark.django_db

#: The default monitoring line in force in 2026 (the 2025 value carried on).
LINE = Decimal("8700")
#: Past the default six months since identification, whatever day the tests run.
IDENTIFIED = "202501"


@pytest.fixture
def users(village_cadre, township_staff, district_staff):
    return {
        "village_cadre": village_cadre,
        "township_staff": township_staff,
        "district_staff": district_staff,
    }


def _monitored(members: int = 2, **data) -> Household:
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": IDENTIFIED,
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    household = f.make_household(f.VILLAGE_A, members=members, **{**fields, **data})
    f.deliver_measure(household)
    return household


def _at_visit(household: Household, users) -> object:
    case = elimination_open(actor=users["village_cadre"], household=household)
    return act(actor=users["village_cadre"], case=case, verb=CaseVerb.NOMINATE, data=NOMINATION)


def _visit(**figures: str) -> dict:
    return {**ELIMINATION_VISIT, **figures}


# -- 1. the income criterion judges the verified figure after compliant spending ------------

#: (wages, operating, property, transfer, costs, compliant out-of-pocket), two members.
INCOME_CASES = [
    # Household 5005 of the walkthrough: 8,744 before and 8,494 after compliant spending.
    pytest.param(("15800", "2200", "0", "300", "812", "500"), Decimal("8494.00"), id="5005"),
    pytest.param(("15800", "2200", "0", "300", "812", "0"), Decimal("8744.00"), id="no-spending"),
    pytest.param(("17400", "0", "0", "0", "0", "0"), Decimal("8700.00"), id="on-the-line"),
    pytest.param(("17402", "0", "0", "0", "0", "0"), Decimal("8701.00"), id="just-above"),
    pytest.param(("30000", "0", "0", "0", "2000", "9000"), Decimal("9500.00"), id="heavy-costs"),
    pytest.param(("20000", "0", "0", "0", "0", "3000"), Decimal("8500.00"), id="medical-bills"),
]


@pytest.mark.parametrize(("figures", "after_spending"), INCOME_CASES)
def test_elimination_visit_judges_its_own_income_after_compliant_spending(
    users, figures, after_spending
):
    case = _at_visit(_monitored(), users)
    names = (
        "wage_income",
        "operating_income",
        "property_income",
        "transfer_income",
        "productive_expenses",
        "compliant_out_of_pocket",
    )
    visit = _visit(**dict(zip(names, figures, strict=True)))
    if after_spending > LINE:
        case = act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=visit)
        assert case.per_capita_net_income == after_spending
        # The figure judged is the one the case records, and the detail prints it.
        from shouwang.cases.services import case_criteria

        income = next(c for c in case_criteria(case, DAY0) if c.key == "income")
        assert income.met and f"{after_spending:.2f}" in income.detail
        # The registry now holds the verified figures: one fact, recorded once.
        household = Household.objects.get(pk=case.household_id)
        assert household.per_capita_after_spending == after_spending
    else:
        with pytest.raises(ApplicationError) as refused:
            act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=visit)
        assert f"{after_spending:.2f}" in refused.value.message
        assert "未高于监测范围" in refused.value.message
        case.refresh_from_db()
        assert case.state == CaseState.VERIFICATION


def test_township_and_district_refuse_once_the_figures_no_longer_hold(users):
    case = _at_visit(_monitored(), users)
    cadre = users["village_cadre"]
    case = act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)
    case = act(actor=cadre, case=case, verb=CaseVerb.REVIEW, data=REVIEW)
    case.notice_ends_on = dt.date(2000, 1, 1)
    case.save(update_fields=["notice_ends_on"])
    case = act(actor=cadre, case=case, verb=CaseVerb.CLOSE_NOTICE, data={})
    # A new alert on the identified risk arrives during the notice.
    from tests.cases.routine_helpers import alert_for

    alert_for(case.household)
    with pytest.raises(ApplicationError, match="仍有未处理预警"):
        act(
            actor=users["township_staff"],
            case=case,
            verb=CaseVerb.TOWNSHIP_APPROVE,
            data=OPINION,
        )


def test_the_page_shows_the_recorded_figure_not_the_registry_before_spending(client, users):
    household = _monitored(wage_income=Decimal("18000"), compliant_out_of_pocket=Decimal("6000"))
    # Before the visit: the registry's figure after spending (25,000 less 6,000, over two).
    assert household.per_capita_after_spending == Decimal("9500.00")
    case = _at_visit(household, users)
    case = act(
        actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT
    )
    client.force_login(users["village_cadre"])
    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "入户核实人均纯收入（扣除合规自付支出）10000.00 元" in html


# -- 2. a risk the registry flags is not eliminated while the flag says so ------------------

FLAG_CASES = [
    (rc.RiskType.HOUSING, "housing_secure"),
    (rc.RiskType.DRINKING_WATER, "drinking_water_secure"),
]


@pytest.mark.parametrize(("risk", "flag"), FLAG_CASES)
def test_an_identified_risk_stays_open_while_the_registry_says_so(client, users, risk, flag):
    household = _monitored(risk_type_1=risk)
    case = _at_visit(household, users)  # nominated while the registry said secure
    # Then the registry learns otherwise (a housing assessment, a water outage).
    Household.objects.filter(pk=household.pk).update(**{flag: False})
    client.force_login(users["village_cadre"])
    page = client.get(reverse("cases:elimination_start", args=[household.pk]))
    risks = next(c for c in page.context["criteria"] if c.key == "risks")
    assert not risks.met and "仍在" in risks.detail
    assert not page.context["criteria_met"]

    # The visit asks the cadre to confirm the flag, starting from the registry's value.
    case.refresh_from_db()
    form = step_form(
        case,
        workflow.transition_for(case.kind, case.state, CaseVerb.VERIFY),
        today=DAY0,
        actor=users["village_cadre"],
    )
    assert flag in form.fields and form.initial[flag] == "no"
    with pytest.raises(ApplicationError, match="仍在"):
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.VERIFY,
            data={**ELIMINATION_VISIT, flag: "no"},
        )
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.VERIFY,
        data={**ELIMINATION_VISIT, flag: "yes"},
    )
    household.refresh_from_db()
    assert getattr(household, flag) is True
    change = AuditEvent.objects.filter(
        target_type="registry.household", target_id=str(household.pk), action="update"
    ).latest("id")
    assert change.before[flag] is False and change.after[flag] is True
    assert change.actor == users["village_cadre"]


# -- 3. lists and the agenda show which households meet the criteria ----------------------


def test_the_candidate_list_shows_and_filters_by_the_criteria(client, village_cadre):
    ready = _monitored()
    poor = _monitored(wage_income=Decimal("8000"))
    client.force_login(village_cadre)
    url = reverse("cases:elimination_candidates")

    rows = {r.household.pk: r for r in client.get(url).context["page"].object_list}
    assert rows[ready.pk].ready and not rows[poor.pk].ready
    assert [c.key for c in rows[poor.pk].unmet] == ["income"]
    html = client.get(url).content.decode()
    assert "全部满足" in html and "1 项未满足" in html

    filtered = client.get(url, {"ready": "1"}).context["page"].object_list
    assert [r.household.pk for r in filtered] == [ready.pk]


def test_the_agenda_lists_for_elimination_only_those_meeting_every_criterion(village_cadre):
    ready = _monitored()
    _monitored(wage_income=Decimal("8000"))  # long enough, but income under the line
    _monitored(members=1, risk_type_1=rc.RiskType.HOUSING, housing_secure=False)
    village = Division.objects.get(code=f.VILLAGE_A)
    held = dt.date(2026, 11, 6)

    agenda = {e.kind: e for e in meeting_agenda(village=village, month="202611", held_on=held)}

    assert [d["household_id"] for d in agenda["eliminations_due"].details] == [ready.pk]


def test_the_agenda_does_not_repeat_a_lead_whose_case_runs(village_cadre):
    village = Division.objects.get(code=f.VILLAGE_A)
    with_case = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=village,
        household=f.make_household(household_type=rc.HouseholdType.ORDINARY),
        description="务工收入中断",
        received_on=dt.date(2026, 11, 2),
    )
    case_open(actor=village_cadre, lead=with_case, today=dt.date(2026, 11, 2))
    waiting = lead_create(
        actor=village_cadre,
        channel=LeadChannel.WHISTLEBLOWER,
        division=village,
        household=f.make_household(household_type=rc.HouseholdType.ORDINARY),
        description="户主摔伤",
        received_on=dt.date(2026, 11, 3),
    )

    agenda = {
        e.kind: e
        for e in meeting_agenda(village=village, month="202611", held_on=dt.date(2026, 11, 6))
    }

    assert [d["id"] for d in agenda["new_leads"].details] == [waiting.pk]
    assert len(agenda["open_cases"].details) == 1


# -- 4. step forms start from what Shouwang holds ----------------------------------------


def _forms_of(case, actor, today=DAY0):
    return {
        t.verb: step_form(case, t, today=today, actor=actor)
        for t in workflow.transitions_from(case.kind, case.state)
    }


def test_no_step_form_asks_again_for_a_household_fact_the_registry_holds(users):
    """Every field of every step form that names a household fact starts with its value."""
    household = _monitored(wage_income=Decimal("12345"), compliant_out_of_pocket=Decimal("678"))
    household_fields = {field.name for field in Household._meta.fields}
    cadre = users["village_cadre"]
    seen = set()
    case = _at_visit(household, users)
    for form in _forms_of(case, cadre).values():
        for name in form.fields:
            if name in household_fields:
                seen.add(name)
                value = getattr(household, name)
                expected = ("yes" if value else "no") if isinstance(value, bool) else value
                assert form.initial.get(name) == expected, name
        assert "member_count" not in form.fields  # the registry counts the members
    assert {"wage_income", "compliant_out_of_pocket"} <= seen


def test_the_visit_form_names_the_user_and_an_elimination_proposes_nothing(users):
    cadre = users["village_cadre"]
    case = _at_visit(_monitored(), users)
    visit = _forms_of(case, cadre)[CaseVerb.VERIFY]
    assert visit.initial["visitors"] == cadre.display_name
    assert "proposed_category" not in visit.fields
    assert "proposed_risk_types" not in visit.fields

    identification = walk(
        case_open(
            actor=cadre,
            lead=lead_create(
                actor=cadre,
                channel=LeadChannel.HOME_VISIT,
                division=Division.objects.get(code=f.VILLAGE_A),
                household=f.make_household(household_type=rc.HouseholdType.ORDINARY),
                description="户主住院",
                received_on=DAY0,
            ),
            today=DAY0,
        ),
        IDENTIFICATION_PATH,
        users,
        until=CaseVerb.VERIFY,
    )
    visit = _forms_of(identification, cadre)[CaseVerb.VERIFY]
    assert {"proposed_category", "proposed_risk_types"} <= set(visit.fields)


def test_the_village_review_takes_its_people_from_the_meeting_and_its_result_from_the_button(
    users,
):
    cadre = users["village_cadre"]
    village = Division.objects.get(code=f.VILLAGE_A)
    meeting_create(
        actor=cadre,
        village=village,
        month="202611",
        held_on=dt.date(2026, 11, 3),
        attendees="冉支书，李主任、王书记 赵代表",
        decisions=ALL_DECISIONS,
        today=dt.date(2026, 11, 20),
    )
    case = _at_visit(_monitored(), users)
    case = act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)
    forms = _forms_of(case, cadre, today=dt.date(2026, 11, 20))
    for verb in (CaseVerb.REVIEW, CaseVerb.REVIEW_REJECT):
        assert "result" not in forms[verb].fields
        assert "attendee_count" not in forms[verb].fields
        assert forms[verb].initial["attendees"] == "冉支书、李主任、王书记、赵代表"


def test_meeting_form_counts_attendees_and_marks_what_the_service_requires(village_cadre):
    village = Division.objects.get(code=f.VILLAGE_A)
    _monitored()  # something on the agenda
    agenda = meeting_agenda(village=village, month="202611", held_on=dt.date(2026, 11, 6))
    form = MeetingForm(agenda=agenda)
    assert "attendee_count" not in form.fields

    # Whatever the service refuses as missing, the form marks required (the page's asterisk).
    with pytest.raises(ApplicationError) as refused:
        meeting_create(
            actor=village_cadre,
            village=village,
            month="202611",
            held_on=dt.date(2026, 11, 6),
            attendees="冉支书、李主任",
            decisions={},
            today=dt.date(2026, 11, 20),
        )
    missing = set(refused.value.extra["errors"])
    required = {e.kind for e, bound in form.agenda_rows() if bound.field.required}
    assert missing <= required and missing
    meeting = meeting_create(
        actor=village_cadre,
        village=village,
        month="202611",
        held_on=dt.date(2026, 11, 6),
        attendees="冉支书、李主任，王书记",
        decisions=ALL_DECISIONS,
        today=dt.date(2026, 11, 20),
    )
    assert meeting.attendee_count == 3


# -- 11. attachments a province requires --------------------------------------------------


def test_the_visit_and_the_end_of_the_notice_wait_for_their_attachments(users):
    from shouwang.cases.services import case_act

    cadre = users["village_cadre"]
    case = _at_visit(_monitored(), users)
    with pytest.raises(ApplicationError, match="入户核实记录（签字）"):
        case_act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)
    case = act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)
    case = act(actor=cadre, case=case, verb=CaseVerb.REVIEW, data=REVIEW)
    case.notice_ends_on = dt.date(2000, 1, 1)
    case.save(update_fields=["notice_ends_on"])
    with pytest.raises(ApplicationError, match="公示照片"):
        case_act(actor=cadre, case=case, verb=CaseVerb.CLOSE_NOTICE, data={})

    # A province that does not require the photo sets its value to 0.
    PolicyValue.objects.filter(parameter="notice_photo_required").update(value=0)
    case = case_act(actor=cadre, case=case, verb=CaseVerb.CLOSE_NOTICE, data={})
    assert case.state == CaseState.TOWNSHIP_REVIEW


def test_an_attachment_from_an_earlier_round_does_not_count_again(users):
    from shouwang.cases.services import case_act

    cadre = users["village_cadre"]
    case = _at_visit(_monitored(), users)
    case = act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)
    case = act(actor=cadre, case=case, verb=CaseVerb.REVIEW, data=REVIEW)
    # An objection sends the case back to the visit: a new signed record is needed.
    case = case_act(
        actor=cadre,
        case=case,
        verb=CaseVerb.OBJECT,
        data={"received_on": "2026-11-05", "content": "邻居反映其务工收入不稳定"},
    )
    with pytest.raises(ApplicationError, match="入户核实记录"):
        case_act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=ELIMINATION_VISIT)


# -- 8. the public status page agrees with itself ----------------------------------------


def test_a_received_application_shows_its_application_done_and_the_visit_next(client):
    village = Division.objects.get(code=f.VILLAGE_A)
    lead = lead_self_apply(
        village=village,
        applicant_name="王五",
        id_number=f.next_id_number(),
        phone="13912345678",
        description="家中老人重病",
        pledge_signed=True,
        asset_check_consent=True,
    )
    status = application_status(tracking_code=lead.tracking_code)
    steps = [label for label, _states in workflow.STEPS[CaseKind.IDENTIFICATION]]
    assert status.stage == PublicStage.RECEIVED
    assert steps[status.step_number - 1] == "入户核实"

    response = client.post(reverse("apply:status"), {"tracking_code": lead.tracking_code})
    html = response.content.decode()
    done = html.count('class="step-done"')
    assert done == 2  # 对象筛查 and 农户申请
    assert 'class="step-current" aria-current="step">入户核实' in html
    assert "等待村（社区）入户核实" in html


# -- 10. months read as months ------------------------------------------------------------


def test_months_read_as_year_and_month(client, users):
    household = _monitored()
    case = _at_visit(household, users)
    client.force_login(users["village_cadre"])
    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "2025年1月" in html and f">{IDENTIFIED}<" not in html
    # The to-do list names this month's meeting as people say it.
    today = timezone.localdate()
    todo = client.get(reverse("workplace:todo")).content.decode()
    assert f"{today.year}年{today.month}月工作会议" in todo
    assert f"{today:%Y%m} 月" not in todo and f">{today:%Y%m}" not in todo
