"""Leads and the identification / elimination steps through the services: every allowed
step, and refusals for the wrong role, the wrong area, an unfinished notice, unmet criteria
and invalid records."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from shouwang.cases.choices import CaseState, CaseVerb, LeadChannel, LeadStatus
from shouwang.cases.models import Case, CaseTransition, Lead
from shouwang.cases.services import (
    case_open,
    elimination_open,
    lead_close,
    lead_create,
    lead_self_apply,
)
from shouwang.core import crypto
from shouwang.core.choices import AuditAction, Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import choices as rc
from shouwang.registry.models import Household, Member
from tests import factories as f
from tests.cases.steps import (
    APPLICATION,
    DAY0,
    DECISION,
    ELIMINATION_PATH,
    HOME_VISIT,
    IDENTIFICATION_PATH,
    OPINION,
    REVIEW,
    act,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(village_cadre, township_staff, district_staff, district_admin):
    return {
        "village_cadre": village_cadre,
        "township_staff": township_staff,
        "district_staff": district_staff,
        "district_admin": district_admin,
    }


@pytest.fixture
def household():
    return f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)


def _lead(household, actor, **kwargs):
    return lead_create(
        actor=actor,
        channel=kwargs.pop("channel", LeadChannel.HOME_VISIT),
        division=household.village,
        household=household,
        description="户主住院，花费较大",
        received_on=DAY0,
        **kwargs,
    )


def _case(household, users):
    return case_open(
        actor=users["village_cadre"], lead=_lead(household, users["village_cadre"]), today=DAY0
    )


# -- identification ------------------------------------------------------------------------


def test_six_steps_make_the_household_a_monitoring_object(household, users):
    case = _case(household, users)
    assert case.state == CaseState.APPLICATION
    assert case.due_on == DAY0 + dt.timedelta(days=15)
    case = walk(case, IDENTIFICATION_PATH, users)
    assert case.state == CaseState.APPROVED and case.closed_at is not None
    household.refresh_from_db()
    assert household.monitoring_status == rc.MonitoringStatus.RISK_UNRESOLVED
    assert household.monitoring_category == rc.MonitoringCategory.SUDDEN_HARDSHIP
    assert household.household_type == rc.HouseholdType.MONITORED
    assert household.identified_month == "202611"
    assert household.risk_types == ["illness"]
    steps = list(case.transitions.values_list("verb", "actor__username"))
    assert steps == [
        (CaseVerb.APPLY, "cadre-a"),
        (CaseVerb.VERIFY, "cadre-a"),
        (CaseVerb.REVIEW, "cadre-a"),
        (CaseVerb.CLOSE_NOTICE, "cadre-a"),
        (CaseVerb.TOWNSHIP_APPROVE, "township-huolu"),
        (CaseVerb.APPROVE, "district-staff"),
    ]
    # The visit's figures: (6000+3000+0+2400-1000-4000)/2 after compliant spending.
    assert case.per_capita_net_income == Decimal("3200.00")
    visit = case.transitions.get(verb=CaseVerb.VERIFY).data
    assert visit["per_capita_net_income"] == "5200.00"
    # Every step is in the audit log with its actor, under the household's history.
    audited = AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk))
    assert audited.count() == 1 + 6
    assert set(audited.values_list("subject", flat=True)) == {f"registry.household:{household.pk}"}


@pytest.mark.parametrize("step", range(len(IDENTIFICATION_PATH)))
def test_each_step_refuses_the_other_levels(household, users, step):
    case = walk(
        _case(household, users), IDENTIFICATION_PATH, users, until=IDENTIFICATION_PATH[step][0]
    )
    verb, who, data, offset = IDENTIFICATION_PATH[step]
    for other in ("village_cadre", "township_staff", "district_staff"):
        if other == who or (who == "district_staff" and other == "district_admin"):
            continue
        with pytest.raises(PermissionDenied):
            act(
                actor=users[other],
                case=case,
                verb=verb,
                data=data,
                today=DAY0 + dt.timedelta(offset),
            )
    assert Case.objects.get(pk=case.pk).state == case.state


def test_the_right_level_outside_its_area_is_refused(household, users):
    case = _case(household, users)
    neighbour = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    with pytest.raises(PermissionDenied):
        act(actor=neighbour, case=case, verb=CaseVerb.APPLY, data=APPLICATION, today=DAY0)
    case = walk(case, IDENTIFICATION_PATH, users, until=CaseVerb.TOWNSHIP_APPROVE)
    elsewhere = f.make_user("township-fengshan", Role.TOWNSHIP_STAFF, ["500156001000"])
    with pytest.raises(PermissionDenied):
        act(actor=elsewhere, case=case, verb=CaseVerb.TOWNSHIP_APPROVE, data=OPINION)


def test_the_notice_must_run_its_days(household, users):
    case = walk(_case(household, users), IDENTIFICATION_PATH, users, until=CaseVerb.CLOSE_NOTICE)
    assert case.notice_started_on == DAY0 + dt.timedelta(2)
    assert case.notice_ends_on == DAY0 + dt.timedelta(6)  # five days: 2nd to 6th
    with pytest.raises(ApplicationError, match="公示期至"):
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.CLOSE_NOTICE,
            today=DAY0 + dt.timedelta(6),
        )
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.CLOSE_NOTICE,
        today=DAY0 + dt.timedelta(7),
    )
    assert case.state == CaseState.TOWNSHIP_REVIEW


def test_an_objection_sends_the_case_back_to_the_home_visit(household, users):
    case = walk(_case(household, users), IDENTIFICATION_PATH, users, until=CaseVerb.CLOSE_NOTICE)
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.OBJECT,
        data={"received_on": "2026-11-05", "content": "村民反映该户有商品房"},
    )
    assert case.state == CaseState.VERIFICATION
    assert case.notice_started_on is None and case.notice_ends_on is None


def test_returns_and_rejections(household, users):
    case = walk(
        _case(household, users), IDENTIFICATION_PATH, users, until=CaseVerb.TOWNSHIP_APPROVE
    )
    case = act(
        actor=users["township_staff"],
        case=case,
        verb=CaseVerb.TOWNSHIP_RETURN,
        data={"opinion": "收入核算有误"},
    )
    assert case.state == CaseState.VERIFICATION
    case = act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    case = act(
        actor=users["village_cadre"], case=case, verb=CaseVerb.REVIEW, data=REVIEW, today=DAY0
    )
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.CLOSE_NOTICE,
        today=DAY0 + dt.timedelta(5),
    )
    case = act(
        actor=users["township_staff"], case=case, verb=CaseVerb.TOWNSHIP_APPROVE, data=OPINION
    )
    case = act(
        actor=users["district_admin"],
        case=case,
        verb=CaseVerb.DISTRICT_RETURN,
        data={"opinion": "补充材料"},
    )
    assert case.state == CaseState.TOWNSHIP_REVIEW
    case = act(
        actor=users["township_staff"], case=case, verb=CaseVerb.TOWNSHIP_APPROVE, data=OPINION
    )
    case = act(
        actor=users["district_admin"],
        case=case,
        verb=CaseVerb.REJECT,
        data={**DECISION, "note": "家庭有商品房，不符合条件"},
    )
    assert case.state == CaseState.REJECTED and "商品房" in case.outcome_note
    household.refresh_from_db()
    assert household.monitoring_status == rc.MonitoringStatus.NOT_MONITORED


def test_steps_out_of_order_and_invalid_records_are_refused(household, users):
    case = _case(household, users)
    cadre = users["village_cadre"]
    with pytest.raises(ApplicationError, match="不能执行"):
        act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    with pytest.raises(ApplicationError, match="承诺书") as info:
        act(
            actor=cadre,
            case=case,
            verb=CaseVerb.APPLY,
            data={**APPLICATION, "pledge_signed": False},
        )
    assert "pledge_signed" in info.value.extra["errors"]
    case = act(actor=cadre, case=case, verb=CaseVerb.APPLY, data=APPLICATION)
    with pytest.raises(ApplicationError, match="风险类型"):
        act(
            actor=cadre,
            case=case,
            verb=CaseVerb.VERIFY,
            data={**HOME_VISIT, "proposed_risk_types": []},
        )
    case = act(actor=cadre, case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    with pytest.raises(ApplicationError, match="至少 3 人") as info:
        act(
            actor=cadre, case=case, verb=CaseVerb.REVIEW, data={**REVIEW, "attendees": "张三、李四"}
        )
    assert "attendees" in info.value.extra["errors"]
    case = act(
        actor=cadre,
        case=case,
        verb=CaseVerb.REVIEW_REJECT,
        data={**REVIEW, "note": "收入高于监测范围"},
    )
    assert case.state == CaseState.REJECTED
    assert CaseTransition.objects.filter(case=case).count() == 3
    # The button decides the result; the count follows from the names.
    review = case.transitions.get(verb=CaseVerb.REVIEW_REJECT).data
    assert review["result"] == "disagreed" and review["attendee_count"] == 5


def test_withdrawal_needs_a_reason_and_ends_the_case(household, users):
    case = _case(household, users)
    with pytest.raises(ApplicationError, match="原因"):
        act(actor=users["township_staff"], case=case, verb=CaseVerb.WITHDRAW, data={"reason": " "})
    case = act(
        actor=users["township_staff"],
        case=case,
        verb=CaseVerb.WITHDRAW,
        data={"reason": "农户主动撤回申请"},
    )
    assert case.state == CaseState.WITHDRAWN
    with pytest.raises(ApplicationError):
        act(
            actor=users["township_staff"],
            case=case,
            verb=CaseVerb.WITHDRAW,
            data={"reason": "再撤一次"},
        )


def _unregistered_lead(users, **kwargs) -> Lead:
    return lead_create(
        actor=users["village_cadre"],
        channel=kwargs.pop("channel", LeadChannel.WHISTLEBLOWER),
        division=Division.objects.get(code=f.VILLAGE_A),
        person_name=kwargs.pop("person_name", "王五"),
        description="外出务工返乡后患重病",
        reporter_name="网格员甲",
        received_on=DAY0,
        **kwargs,
    )


#: The head of a household registered at the home visit (the ID number comes from the lead
#: unless given).
NEW_HOUSEHOLD = {
    "household_source": "new",
    "household_number": "5001561042000777",
    "head_name": "王五",
    "head_ethnicity": rc.Ethnicity.TUJIA,
    "head_education": rc.Education.JUNIOR,
    "head_health_status": rc.HealthStatus.SERIOUS_ILLNESS,
    "head_labour_skill": rc.LabourSkill.WEAK,
}


def _at_visit(users, **lead_kwargs) -> Case:
    case = case_open(actor=users["village_cadre"], lead=_unregistered_lead(users, **lead_kwargs))
    return act(actor=users["village_cadre"], case=case, verb=CaseVerb.APPLY, data=APPLICATION)


def test_an_unregistered_person_is_linked_to_the_household_at_the_home_visit(users):
    case = _at_visit(users, id_number=f.next_id_number())
    assert case.household is None and case.lead.id_number_masked
    with pytest.raises(ApplicationError, match="请选择登记该户或关联已建档的农户"):
        act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    existing = {**HOME_VISIT, "household_source": "existing"}
    with pytest.raises(ApplicationError) as refused:
        act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=existing)
    assert refused.value.extra["errors"] == {"household_number": ["请填写户编号"]}
    elsewhere = f.make_household(f.VILLAGE_B, household_type=rc.HouseholdType.ORDINARY)
    with pytest.raises(ApplicationError, match="在向前村.*没有户编号为"):
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.VERIFY,
            data={**existing, "household_number": elsewhere.household_number},
        )

    registered = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.VERIFY,
        # The head's fields of a new household are ignored when linking an existing one.
        data={**existing, "household_number": registered.household_number, "head_name": "x"},
    )
    assert case.household == registered and case.person_name == ""
    case.lead.refresh_from_db()
    assert case.lead.household == registered
    record = case.transitions.get(verb=CaseVerb.VERIFY).data
    assert record["household_link"] == "by_number" and "head_name" not in record
    assert record["household_number"] == registered.household_number
    assert Household.objects.count() == 2  # nothing new registered
    linked = AuditEvent.objects.get(target_type="cases.lead", extra__verb="link_household")
    assert linked.before["household_id"] is None
    assert linked.after["household_id"] == registered.pk
    assert linked.subject == f"registry.household:{registered.pk}"


def test_the_home_visit_registers_a_household_not_yet_in_the_registry(users):
    id_number = f.next_id_number(birth=dt.date(1972, 3, 9), male=False)
    lead = lead_self_apply(
        village=Division.objects.get(code=f.VILLAGE_A),
        applicant_name="王五",
        id_number=id_number,
        phone="13800002222",
        description="丈夫外出务工受伤，家中无收入",
        pledge_signed=True,
        asset_check_consent=True,
    )
    merged = _unregistered_lead(users, id_number=id_number, channel=LeadChannel.MEDIA)
    assert merged.merged_into == lead
    case = case_open(actor=users["village_cadre"], lead=lead, today=DAY0)
    assert case.state == CaseState.VERIFICATION

    # No ID or phone typed: the lead's are used.
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.VERIFY,
        data={**HOME_VISIT, **NEW_HOUSEHOLD},
        today=DAY0 + dt.timedelta(1),
    )

    household = case.household
    assert household.household_number == "5001561042000777"
    assert household.village_id == f.VILLAGE_A
    assert household.household_type == rc.HouseholdType.ORDINARY
    assert household.monitoring_status == rc.MonitoringStatus.NOT_MONITORED
    assert household.income_year == 2026
    assert (household.wage_income, household.transfer_income) == (Decimal(6000), Decimal(2400))
    assert household.compliant_out_of_pocket == Decimal(4000)
    assert household.phone_index == crypto.blind_index("13800002222")
    household.refresh_from_db()
    assert household.member_count == 1 and household.head_name == "王五"
    head = household.members.get()
    assert head.relation == rc.Relation.HEAD and head.id_number_index == lead.id_number_index
    assert (head.sex, head.birth_date) == (rc.Sex.FEMALE, dt.date(1972, 3, 9))
    assert head.ethnicity == rc.Ethnicity.TUJIA
    assert head.health_status == rc.HealthStatus.SERIOUS_ILLNESS
    assert case.person_name == ""
    for linked in (lead, merged):
        linked.refresh_from_db()
        assert linked.household == household

    # The step's record names the household and keeps masked numbers only.
    record = case.transitions.get(verb=CaseVerb.VERIFY).data
    assert record["household_link"] == "registered"
    assert record["head_id_number"] == lead.id_number_masked
    assert record["phone"] == lead.phone_masked and "*" in lead.phone_masked
    subject = f"registry.household:{household.pk}"
    created = AuditEvent.objects.filter(subject=subject, action=AuditAction.CREATE)
    assert set(created.values_list("target_type", flat=True)) == {
        "registry.household",
        "registry.member",
    }
    assert all(e.actor == users["village_cadre"] for e in created)
    for event in AuditEvent.objects.all():
        assert id_number not in str(event.before) + str(event.after) + str(event.extra)
    assert id_number not in str(CaseTransition.objects.values_list("data", flat=True))

    # The rest of the six steps make it a monitoring object.
    case = walk(case, IDENTIFICATION_PATH[2:], users, start=DAY0)
    household.refresh_from_db()
    assert case.state == CaseState.APPROVED
    assert household.household_type == rc.HouseholdType.MONITORED
    assert household.monitoring_status == rc.MonitoringStatus.RISK_UNRESOLVED


def test_a_new_households_head_is_checked_and_nothing_half_written(users):
    case = _at_visit(users)  # a lead with a name only
    data = {**HOME_VISIT, "household_source": "new"}
    with pytest.raises(ApplicationError) as refused:
        act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=data)
    assert refused.value.extra["errors"] == {
        "household_number": ["请填写户编号"],
        "head_name": ["请填写户主姓名"],
        "head_id_number": ["请填写户主身份证号码"],
        "head_ethnicity": ["请选择户主民族"],
        "head_education": ["请选择户主文化程度"],
        "head_health_status": ["请选择户主健康状况"],
        "head_labour_skill": ["请选择户主劳动技能"],
    }
    bad = {
        **HOME_VISIT,
        **NEW_HOUSEHOLD,
        "head_id_number": "500156198005171234",
        "head_health_status": rc.HealthStatus.DISABLED,
        "phone": "12ab",
    }
    with pytest.raises(ApplicationError) as refused:
        act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=bad)
    errors = refused.value.extra["errors"]
    assert "校验" in errors["head_id_number"][0] or "身份证" in errors["head_id_number"][0]
    assert errors["head_disability_grade"] == ["健康状况为残疾时请选择残疾等级"]
    assert errors["phone"] == ["联系电话应为 7 到 12 位数字"]

    taken = f.make_household(f.VILLAGE_B)
    with pytest.raises(ApplicationError, match="已被其他农户使用") as refused:
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.VERIFY,
            data={
                **HOME_VISIT,
                **NEW_HOUSEHOLD,
                "household_number": taken.household_number,
                "head_id_number": f.next_id_number(),
            },
        )
    assert list(refused.value.extra["errors"]) == ["household_number"]
    case.refresh_from_db()
    assert case.state == CaseState.VERIFICATION and case.household is None
    assert Household.objects.count() == 1 and Member.objects.count() == 2


def test_a_head_already_registered_links_the_household_instead_of_a_second_one(users):
    id_number = f.next_id_number()
    case = _at_visit(users)  # the lead did not know the ID number
    home = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    f.make_member(home, id_number=id_number, name="王五", relation=rc.Relation.SPOUSE)
    data = {**HOME_VISIT, **NEW_HOUSEHOLD, "head_id_number": id_number}

    case = act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=data)

    assert case.household == home
    assert Household.objects.count() == 1
    record = case.transitions.get(verb=CaseVerb.VERIFY).data
    assert record["household_link"] == "by_id_number"
    assert "head_id_number" not in record and "head_name" not in record

    # Registered in another village: refused, with where it is.
    elsewhere = f.make_household(f.VILLAGE_B, members=0, household_type=rc.HouseholdType.ORDINARY)
    other_id = f.next_id_number()
    f.make_member(elsewhere, id_number=other_id, name="赵七")
    other = _at_visit(users, person_name="赵七")
    with pytest.raises(ApplicationError, match="已登记在火炉社区.*的农户") as refused:
        act(
            actor=users["village_cadre"],
            case=other,
            verb=CaseVerb.VERIFY,
            data={**data, "head_id_number": other_id, "head_name": "赵七"},
        )
    assert list(refused.value.extra["errors"]) == ["head_id_number"]


def test_a_household_already_monitored_or_in_a_case_is_not_linked_again(household, users):
    busy = _case(household, users)
    case = _at_visit(users)
    existing = {**HOME_VISIT, "household_source": "existing"}
    with pytest.raises(ApplicationError, match="已有正在办理的流程"):
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.VERIFY,
            data={**existing, "household_number": household.household_number},
        )
    walk(busy, IDENTIFICATION_PATH, users)
    with pytest.raises(ApplicationError, match="已是风险未消除的监测对象"):
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.VERIFY,
            data={**existing, "household_number": household.household_number},
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory SQLite test database serialises threads; runs on PostgreSQL",
)
def test_concurrent_approval_leaves_one_transition(committed_divisions, users):
    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    case = walk(_case(household, users), IDENTIFICATION_PATH, users, until=CaseVerb.APPROVE)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(who: str) -> None:
        try:
            barrier.wait(timeout=10)
            act(actor=users[who], case=case, verb=CaseVerb.APPROVE, data=DECISION)
            outcomes.append("approved")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(w,)) for w in ("district_staff", "district_admin")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0] == "approved" and len(outcomes) == 2
    assert "不能执行" in sorted(outcomes)[1]
    assert CaseTransition.objects.filter(case=case, verb=CaseVerb.APPROVE).count() == 1


# -- leads ---------------------------------------------------------------------------------


def test_leads_on_the_same_household_merge(household, users):
    first = _lead(household, users["village_cadre"])
    second = _lead(household, users["township_staff"], channel=LeadChannel.MEDIA)
    assert first.status == LeadStatus.OPEN
    assert second.status == LeadStatus.MERGED and second.merged_into == first
    case_open(actor=users["village_cadre"], lead=first, today=DAY0)
    third = _lead(household, users["district_staff"], channel=LeadChannel.PETITION)
    assert third.merged_into == first  # still merged while the case runs


def test_a_registered_persons_id_number_finds_the_household(household, users):
    id_number = f.next_id_number()
    f.make_member(household, id_number=id_number, name="李四", relation=rc.Relation.SPOUSE)
    lead = lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.WHISTLEBLOWER,
        division=Division.objects.get(code=f.VILLAGE_A),
        id_number=id_number,
        description="突发车祸",
    )
    assert lead.household == household and lead.person_name == "李四"


def test_self_application_starts_at_the_home_visit_with_a_tracking_code(users):
    lead = lead_self_apply(
        village=Division.objects.get(code=f.VILLAGE_A),
        applicant_name="赵六",
        id_number=f.next_id_number(),
        phone="13800001111",
        description="孩子上大学，家里负担重",
        pledge_signed=True,
        asset_check_consent=True,
    )
    assert len(lead.tracking_code) == 10 and lead.reported_by is None
    assert lead.phone_masked != "13800001111"
    case = case_open(actor=users["village_cadre"], lead=lead, today=DAY0)
    assert case.state == CaseState.VERIFICATION
    apply = case.transitions.get()
    assert apply.verb == CaseVerb.APPLY and apply.actor is None and apply.data["pledge_signed"]


def test_self_application_needs_pledge_and_consent():
    with pytest.raises(ApplicationError, match="授权"):
        lead_self_apply(
            village=Division.objects.get(code=f.VILLAGE_A),
            applicant_name="赵六",
            id_number=f.next_id_number(),
            phone="13800001111",
            description="x",
            pledge_signed=True,
            asset_check_consent=False,
        )
    assert not Lead.objects.exists()


def test_leads_are_recorded_and_closed_in_the_area_only(household, users):
    neighbour = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    with pytest.raises(PermissionDenied):
        _lead(household, neighbour)
    officer = f.make_user(
        "dept", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="civil_affairs"
    )
    with pytest.raises(PermissionDenied):
        _lead(household, officer)
    lead = _lead(household, users["village_cadre"])
    with pytest.raises(ApplicationError, match="关闭原因"):
        lead_close(actor=users["village_cadre"], lead=lead, reason="")
    lead = lead_close(actor=users["village_cadre"], lead=lead, reason="核实后家庭收入较高，无风险")
    assert lead.status == LeadStatus.CLOSED
    with pytest.raises(ApplicationError):
        case_open(actor=users["village_cadre"], lead=lead)


def test_green_channel_needs_a_reason(household, users):
    lead = _lead(household, users["village_cadre"])
    with pytest.raises(ApplicationError, match="绿色通道"):
        case_open(actor=users["village_cadre"], lead=lead, green_channel=True)
    case = case_open(
        actor=users["village_cadre"],
        lead=lead,
        green_channel=True,
        green_channel_reason="山洪冲毁房屋",
    )
    assert case.green_channel


# -- elimination ---------------------------------------------------------------------------


def _monitored(**data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    household = f.make_household(f.VILLAGE_A, **{**fields, **data})
    f.deliver_measure(household)
    return household


def test_elimination_is_refused_while_criteria_are_unmet(users):
    household = _monitored(identified_month="202609")  # two months ago
    case = elimination_open(actor=users["village_cadre"], household=household, today=DAY0)
    assert case.state == CaseState.NOMINATION
    with pytest.raises(ApplicationError, match="纳入监测已满 6 个月") as info:
        act(
            actor=users["village_cadre"],
            case=case,
            verb=CaseVerb.NOMINATE,
            data=ELIMINATION_PATH[0][2],
            today=DAY0,
        )
    assert info.value.extra["errors"]["criteria"]


def test_five_steps_mark_the_household_risk_eliminated(users):
    household = _monitored()
    case = elimination_open(actor=users["village_cadre"], household=household, today=DAY0)
    case = walk(case, ELIMINATION_PATH, users)
    assert case.state == CaseState.APPROVED
    household.refresh_from_db()
    assert household.monitoring_status == rc.MonitoringStatus.RISK_ELIMINATED
    assert household.eliminated_month == "202611"
    assert household.elimination_method == rc.EliminationMethod.ASSISTED
    assert household.identified_month == "202601"  # the record stays
    with pytest.raises(ApplicationError, match="风险未消除"):
        elimination_open(actor=users["village_cadre"], household=household)


def test_a_household_with_a_case_cannot_be_deleted(household, users):
    from shouwang.registry.models import Household
    from shouwang.registry.services import household_delete

    _case(household, users)
    with pytest.raises(ApplicationError, match="不能删除"):
        household_delete(actor=users["village_cadre"], household=household)
    assert Household.objects.filter(pk=household.pk).exists()
    assert not AuditEvent.objects.filter(target_type="registry.household", action="delete").exists()


def test_bulk_delete_names_the_households_it_cannot_delete(household, users):
    from shouwang.registry.bulk import households_bulk_delete

    _case(household, users)
    with pytest.raises(ApplicationError, match=household.household_number):
        households_bulk_delete(actor=None, household_ids=[household.pk])


def test_a_province_step_limit_in_working_days_sets_the_nearer_deadline(household, users):
    from shouwang.policy.models import PolicyValue

    PolicyValue.objects.create(parameter="home_visit_working_days", value=2, source="测试")
    # Two working days after Wednesday 2026-09-30: 10-01 to 10-07 are the National Day
    # holiday, so they are Thursday 10-08 and Friday 10-09.
    lead = _lead(household, users["village_cadre"])
    case = case_open(actor=users["village_cadre"], lead=lead, today=dt.date(2026, 9, 30))
    assert case.step_due_on is None and case.next_due_on == case.due_on
    case = act(
        actor=users["village_cadre"],
        case=case,
        verb=CaseVerb.APPLY,
        data=APPLICATION,
        today=dt.date(2026, 9, 30),
    )
    assert case.state == CaseState.VERIFICATION
    assert case.step_due_on == dt.date(2026, 10, 9) and not case.step_due_estimated
    assert case.next_due_on == min(case.due_on, case.step_due_on)
    case = act(actor=users["village_cadre"], case=case, verb=CaseVerb.VERIFY, data=HOME_VISIT)
    assert case.step_due_on is None and case.next_due_on == case.due_on  # no limit set here
