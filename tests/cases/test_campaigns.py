"""The yearly campaign (集中排查 / 动态管理): opening, checks per household, natural changes
applied to the registry through its services (with their audit rows), progress per village,
role and area refusals, and the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shouwang.cases import routine_selectors as sel
from shouwang.cases.models import CampaignCheck, Lead
from shouwang.cases.routine_services import (
    MemberAddition,
    MemberRemoval,
    campaign_check_record,
    campaign_open,
)
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import choices as rc
from shouwang.registry.models import Member
from tests import factories as f
from tests.cases.routine_helpers import day

pytestmark = pytest.mark.django_db

TODAY = day("2026-11-20")


@pytest.fixture
def campaign(district_admin):
    return campaign_open(
        actor=district_admin,
        name="2026年防止返贫监测对象集中排查",
        scope=Division.objects.get(code=f.COUNTY_WULONG),
        starts_on=day("2026-11-01"),
        ends_on=day("2026-12-31"),
    )


def _check(actor, campaign, household, **kwargs):
    fields = {"checked_on": day("2026-11-10"), "checker": "网格员甲", "result": "no_change"}
    fields.update(kwargs)
    return campaign_check_record(
        actor=actor, campaign=campaign, household=household, today=TODAY, **fields
    )


# -- opening ------------------------------------------------------------------------------


def test_only_district_roles_open_campaigns(village_cadre, township_staff, district_staff):
    township = Division.objects.get(code=f.TOWNSHIP_HUOLU)
    for actor in (village_cadre, township_staff):
        with pytest.raises(PermissionDenied, match="区县"):
            campaign_open(
                actor=actor,
                name="排查",
                scope=township,
                starts_on=day("2026-11-01"),
                ends_on=day("2026-11-30"),
            )
    campaign = campaign_open(
        actor=district_staff,
        name="火炉镇排查",
        scope=township,
        starts_on=day("2026-11-01"),
        ends_on=day("2026-11-30"),
    )
    event = AuditEvent.objects.get(target_type="cases.campaign", target_id=str(campaign.pk))
    assert event.actor == district_staff


def test_scope_is_a_county_or_township_and_campaigns_do_not_overlap(district_admin, campaign):
    with pytest.raises(ApplicationError, match="区县或乡镇"):
        campaign_open(
            actor=district_admin,
            name="村排查",
            scope=Division.objects.get(code=f.VILLAGE_A),
            starts_on=day("2027-01-01"),
            ends_on=day("2027-01-31"),
        )
    with pytest.raises(ApplicationError, match="重叠"):
        campaign_open(
            actor=district_admin,
            name="火炉镇补查",
            scope=Division.objects.get(code=f.TOWNSHIP_HUOLU),
            starts_on=day("2026-12-01"),
            ends_on=day("2027-01-15"),
        )
    with pytest.raises(ApplicationError, match="结束日期"):
        campaign_open(
            actor=district_admin,
            name="倒序",
            scope=Division.objects.get(code=f.TOWNSHIP_HUOLU),
            starts_on=day("2027-03-01"),
            ends_on=day("2027-02-01"),
        )


# -- checks and natural changes ------------------------------------------------------------


def test_no_change_check_is_recorded_with_an_audit_row(village_cadre, campaign):
    household = f.make_household()
    check = _check(village_cadre, campaign, household)
    assert check.village_id == f.VILLAGE_A and check.changes == []
    event = AuditEvent.objects.get(target_type="cases.campaigncheck")
    assert event.subject == f"registry.household:{household.pk}"
    with pytest.raises(ApplicationError, match="已登记"):
        _check(village_cadre, campaign, household)


def test_birth_death_and_marriage_reach_the_registry_through_its_services(village_cadre, campaign):
    household = f.make_household(members=3)  # 成员0 (head), 成员1, 成员2
    head, son, other = household.members.order_by("id")
    baby_id = f.next_id_number(birth=dt.date(2026, 8, 1), male=False)
    bride_id = f.next_id_number(birth=dt.date(1999, 3, 3), male=False)
    check = _check(
        village_cadre,
        campaign,
        household,
        result="change_found",
        note="户主 9 月病故，成员2 外嫁，添一女，儿媳婚入",
        removals=[
            MemberRemoval(member_id=head.pk, reason="death"),
            MemberRemoval(member_id=other.pk, reason="marriage_out"),
        ],
        new_head_id=son.pk,
        additions=[
            MemberAddition(
                reason="birth", name="小花", id_number=baby_id, relation=rc.Relation.GRANDDAUGHTER
            ),
            MemberAddition(
                reason="marriage_in",
                name="李梅",
                id_number=bride_id,
                relation=rc.Relation.DAUGHTER_IN_LAW,
                education=rc.Education.SENIOR,
                labour_skill=rc.LabourSkill.ORDINARY,
            ),
        ],
    )

    household.refresh_from_db()
    names = set(household.members.values_list("name", flat=True))
    assert names == {son.name, "小花", "李梅"}
    assert household.member_count == 3
    assert household.head_name == son.name
    assert Member.objects.get(name="小花").sex == rc.Sex.FEMALE
    assert [c["change"] for c in check.changes] == [
        "death",
        "marriage_out",
        "new_head",
        "birth",
        "marriage_in",
    ]
    subject = f"registry.household:{household.pk}"
    events = AuditEvent.objects.filter(subject=subject, actor=village_cadre)
    member_events = events.filter(target_type="registry.member")
    assert member_events.filter(action="delete").count() == 2
    assert member_events.filter(action="create").count() == 2
    assert member_events.filter(action="update").count() == 1  # the new head
    assert events.filter(target_type="cases.campaigncheck").count() == 1


def test_a_failed_change_leaves_the_registry_untouched(village_cadre, campaign):
    household = f.make_household(members=2)
    _head, son = household.members.order_by("id")
    with pytest.raises(ApplicationError, match="身份证"):
        _check(
            village_cadre,
            campaign,
            household,
            result="change_found",
            note="添丁",
            removals=[MemberRemoval(member_id=son.pk, reason="move_out")],
            additions=[
                MemberAddition(reason="birth", name="小宝", id_number="123", relation="grandson")
            ],
        )
    assert household.members.count() == 2
    assert not CampaignCheck.objects.exists()
    assert not AuditEvent.objects.filter(action="delete", target_type="registry.member").exists()


def test_head_leaving_needs_a_new_head_and_changes_need_the_right_result(village_cadre, campaign):
    household = f.make_household(members=2)
    head, son = household.members.order_by("id")
    with pytest.raises(ApplicationError, match="新户主"):
        _check(
            village_cadre,
            campaign,
            household,
            result="change_found",
            note="户主迁出",
            removals=[MemberRemoval(member_id=head.pk, reason="move_out")],
        )
    with pytest.raises(ApplicationError, match="无变化"):
        _check(
            village_cadre,
            campaign,
            household,
            removals=[MemberRemoval(member_id=son.pk, reason="move_out")],
        )
    with pytest.raises(ApplicationError, match="户主仍在户内"):
        _check(
            village_cadre, campaign, household, result="change_found", note="x", new_head_id=son.pk
        )
    stranger = f.make_household().members.first()
    with pytest.raises(ApplicationError, match="不属于该户"):
        _check(
            village_cadre,
            campaign,
            household,
            result="change_found",
            note="x",
            removals=[MemberRemoval(member_id=stranger.pk, reason="death")],
        )
    assert household.members.count() == 2


def test_a_new_risk_opens_a_lead(village_cadre, campaign):
    household = f.make_household()
    check = _check(
        village_cadre, campaign, household, result="new_risk", note="户主确诊尿毒症，需长期透析"
    )
    lead = Lead.objects.get()
    assert check.lead == lead
    assert lead.household == household and lead.received_on == day("2026-11-10")
    assert "尿毒症" in lead.description


def test_check_refusals_role_area_scope_and_dates(
    village_cadre, township_staff, district_admin, campaign
):
    with pytest.raises(PermissionDenied, match="管辖范围"):
        _check(village_cadre, campaign, f.make_household(f.VILLAGE_B))
    with pytest.raises(PermissionDenied, match="村（社区）干部"):
        _check(township_staff, campaign, f.make_household())
    with pytest.raises(ApplicationError, match="之间"):
        _check(village_cadre, campaign, f.make_household(), checked_on=day("2026-10-31"))
    with pytest.raises(ApplicationError, match="不能晚于今天"):
        _check(village_cadre, campaign, f.make_household(), checked_on=day("2026-11-21"))
    township_campaign = campaign_open(
        actor=district_admin,
        name="凤山街道排查",
        scope=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP[:9] + "000"),
        starts_on=day("2027-01-01"),
        ends_on=day("2027-01-31"),
    )
    with pytest.raises(ApplicationError, match="范围"):
        _check(village_cadre, township_campaign, f.make_household(), checked_on=day("2027-01-05"))


def test_progress_per_village(village_cadre, township_staff, campaign):
    a1, _a2 = f.make_household(), f.make_household()
    f.make_household(f.VILLAGE_B)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP)
    _check(village_cadre, campaign, a1, result="change_found", note="电话号码变更")

    progress = sel.campaign_progress(actor=township_staff, campaign=campaign)
    rows = {r.village.code: (r.checked, r.households, r.changed) for r in progress.villages}
    assert rows == {f.VILLAGE_A: (1, 2, 1), f.VILLAGE_B: (0, 1, 0)}
    assert (progress.checked, progress.households) == (1, 3)
    cadre_rows = sel.campaign_progress(actor=village_cadre, campaign=campaign).villages
    assert [r.village.code for r in cadre_rows] == [f.VILLAGE_A]


def test_campaigns_are_seen_where_the_scope_overlaps(district_admin, village_cadre, campaign):
    township_campaign = campaign_open(
        actor=district_admin,
        name="凤山街道排查",
        scope=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP[:9] + "000"),
        starts_on=day("2027-01-01"),
        ends_on=day("2027-01-31"),
    )
    seen = set(sel.campaign_list(actor=village_cadre))
    assert campaign in seen and township_campaign not in seen
    officer = f.make_user("dept", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG])
    assert not sel.campaign_list(actor=officer).exists()


# -- pages --------------------------------------------------------------------------------


@pytest.fixture
def running_campaign(district_admin):
    today = dt.date.today()
    return campaign_open(
        actor=district_admin,
        name="集中排查",
        scope=Division.objects.get(code=f.COUNTY_WULONG),
        starts_on=today - dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=25),
    )


def test_campaign_pages(client, village_cadre, district_admin, running_campaign):
    household = f.make_household(members=2)
    client.force_login(district_admin)
    assert client.get(reverse("routines:campaign_list")).status_code == 200
    assert client.get(reverse("routines:campaign_create")).status_code == 200
    client.force_login(village_cadre)
    assert client.get(reverse("routines:campaign_create")).status_code == 403
    body = client.get(reverse("routines:campaign_detail", args=[running_campaign.pk])).content
    assert household.household_number in body.decode()  # the cadre's one village opens at once

    head, son = household.members.order_by("id")
    url = reverse("routines:campaign_check", args=[running_campaign.pk, household.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "checked_on": dt.date.today().isoformat(),
            "checker": "网格员甲",
            "result": "change_found",
            "note": "添一孙子",
            f"leave_{head.pk}": "",
            f"leave_{son.pk}": "",
            "new-TOTAL_FORMS": "2",
            "new-INITIAL_FORMS": "0",
            "new-0-reason": "birth",
            "new-0-name": "小宝",
            "new-0-id_number": f.next_id_number(birth=dt.date.today() - dt.timedelta(days=30)),
            "new-0-relation": "grandson",
            "new-0-education": "preschool",
            "new-0-labour_skill": "none",
            "new-1-education": "preschool",
            "new-1-labour_skill": "none",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    household.refresh_from_db()
    assert household.member_count == 3


def test_other_villages_household_is_404_on_the_check_form(client, village_cadre, running_campaign):
    other = f.make_household(f.VILLAGE_B)
    client.force_login(village_cadre)
    url = reverse("routines:campaign_check", args=[running_campaign.pk, other.pk])
    assert client.get(url).status_code == 404
