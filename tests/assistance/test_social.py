"""Social help: offers, proposed matches by kind and distance, confirmation into the plan,
capacity, area scoping and roles; then the pages."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from shouwang.assistance.choices import (
    MatchStatus,
    MeasureSource,
    MeasureStatus,
    OfferKind,
    OfferStatus,
    OrganisationKind,
    Programme,
)
from shouwang.assistance.models import Measure, PlanMeasure, SocialMatch, SocialOffer
from shouwang.assistance.services import plan_accept, plan_measure_progress
from shouwang.assistance.social_selectors import (
    match_list,
    match_pending,
    offer_get,
    offer_list,
)
from shouwang.assistance.social_services import (
    OFFER_KIND_GROUPS,
    PROPOSALS_PER_PLACE,
    division_distance,
    match_confirm,
    match_decline,
    matches_propose,
    offer_close,
    offer_save,
)
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)
JOB_MEASURE = "鲁渝协作就业岗位"
#: Another village of 凤山街道, beside f.VILLAGE_OTHER_TOWNSHIP.
TOWNSHIP_FENGSHAN = "500156001000"


def _measure(name: str) -> Measure:
    return Measure.objects.get(name=name)


def _monitored(village: str = f.VILLAGE_A, **data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.UNSTABLE_EMPLOYMENT,
    }
    return f.make_household(village, **{**fields, **data})


def _need(household, name: str = "劳务输出（转移就业）", due: dt.date | None = None) -> PlanMeasure:
    plan = plan_accept(
        actor=None,
        household=household,
        items=[{"measure": _measure(name), "planned_end": due or TODAY + dt.timedelta(days=60)}],
        today=TODAY,
    )
    return plan.measures.get(measure__name=name)


def _offer(actor=None, **data) -> SocialOffer:
    fields = {
        "organisation": "淄博某纺织有限公司",
        "organisation_kind": OrganisationKind.PAIRED_REGION,
        "programme": Programme.LUYU,
        "kind": OfferKind.JOB,
        "measure": _measure(JOB_MEASURE),
        "title": "纺织车间普工",
        "division": Division.objects.get(code=f.VILLAGE_A),
        "capacity": 5,
        "amount_per_household": Decimal("3000"),
    }
    fields.update(data)
    return offer_save(actor=actor, data=fields)


def _proposed_households(matches):
    return [m.household_id for m in matches]


# --- distance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer_code", "village_code", "expected"),
    [
        (f.VILLAGE_A, f.VILLAGE_A, 0),
        (f.VILLAGE_B, f.VILLAGE_A, 1),  # same township (火炉镇)
        (f.TOWNSHIP_HUOLU, f.VILLAGE_A, 1),  # an offer placed at the township
        (f.VILLAGE_OTHER_TOWNSHIP, f.VILLAGE_A, 2),  # same county
        (f.COUNTY_WULONG, f.VILLAGE_A, 2),
        ("500101001001", f.VILLAGE_A, 3),  # 万州区: same city (重庆市辖区)
        ("500229001001", f.VILLAGE_A, 4),  # 城口县: same province only
        ("370303001001", f.VILLAGE_A, 5),  # 淄博: another province
        (None, f.VILLAGE_A, 5),  # no place given
    ],
)
def test_division_distance_reads_the_code_tree(offer_code, village_code, expected):
    assert division_distance(offer_code, village_code) == expected


def test_every_kind_has_groups_that_exist():
    from shouwang.assistance.models import MeasureGroup

    codes = set(MeasureGroup.objects.values_list("code", flat=True))
    for kind in OfferKind.values:
        assert OFFER_KIND_GROUPS[kind], kind
        assert set(OFFER_KIND_GROUPS[kind]) <= codes, kind


# --- offers ------------------------------------------------------------------------------


def test_offer_save_registers_with_audit(township_staff):
    offer = _offer(township_staff)

    assert offer.status == OfferStatus.OPEN
    assert offer.registered_by == township_staff
    event = AuditEvent.objects.get(target_type="assistance.socialoffer", target_id=str(offer.pk))
    assert event.action == "create"
    assert event.after["title"] == "纺织车间普工"


def test_offer_measure_must_fit_the_kind(district_staff):
    with pytest.raises(ApplicationError, match="就业岗位对应的措施应属于"):
        _offer(district_staff, measure=_measure("医疗救助"))


def test_village_cadre_cannot_register_offers(village_cadre):
    with pytest.raises(PermissionDenied):
        _offer(village_cadre)


def test_township_staff_registers_only_in_their_area(township_staff):
    with pytest.raises(PermissionDenied, match="不在您的管辖范围"):
        _offer(township_staff, division=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP))
    assert _offer(township_staff, division=None).division is None


def test_capacity_cannot_drop_below_confirmed_and_kind_is_fixed_once_matched(district_staff):
    offer = _offer(district_staff, capacity=3)
    households = [_monitored() for _ in range(2)]
    for household in households:
        _need(household)
    matches = matches_propose(actor=district_staff, offer=offer, today=TODAY)
    for match in matches:
        match_confirm(actor=district_staff, match=match, today=TODAY)

    with pytest.raises(ApplicationError, match="不能少于此数"):
        offer_save(actor=district_staff, offer=offer, data={"capacity": 1})
    with pytest.raises(ApplicationError, match="不能再修改帮扶类型"):
        offer_save(
            actor=district_staff,
            offer=offer,
            data={"kind": OfferKind.TRAINING, "measure": _measure("技能培训")},
        )
    offer = offer_save(actor=district_staff, offer=offer, data={"capacity": 2, "title": "普工"})
    assert (offer.capacity, offer.title) == (2, "普工")


def test_offer_visibility_follows_the_division_tree(township_staff, district_staff):
    own = _offer(district_staff, title="本镇")
    county = _offer(
        district_staff, title="全区", division=Division.objects.get(code=f.COUNTY_WULONG)
    )
    nowhere = _offer(district_staff, title="区外", division=None)
    other = _offer(
        district_staff, title="他镇", division=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP)
    )

    seen = set(offer_list(actor=township_staff).values_list("title", flat=True))

    assert seen == {own.title, county.title, nowhere.title}
    with pytest.raises(SocialOffer.DoesNotExist):
        offer_get(actor=township_staff, pk=other.pk)
    assert offer_list(actor=district_staff).count() == 4


def test_department_officers_see_no_offers(department_officer, district_staff):
    _offer(district_staff)
    assert not offer_list(actor=department_officer).exists()


# --- proposals ---------------------------------------------------------------------------


def test_proposals_nearest_first_then_need_due_soonest(district_staff):
    offer = _offer(district_staff, capacity=10)
    same_village_late = _monitored(f.VILLAGE_A)
    _need(same_village_late, due=TODAY + dt.timedelta(days=80))
    same_village_soon = _monitored(f.VILLAGE_A)
    _need(same_village_soon, due=TODAY + dt.timedelta(days=20))
    same_township = _monitored(f.VILLAGE_B)
    _need(same_township, due=TODAY + dt.timedelta(days=5))
    other_township = _monitored(f.VILLAGE_OTHER_TOWNSHIP)
    _need(other_township, due=TODAY + dt.timedelta(days=1))

    matches = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    assert _proposed_households(matches) == [
        same_village_soon.pk,
        same_village_late.pk,
        same_township.pk,
        other_township.pk,
    ]
    assert [m.distance for m in matches] == [0, 0, 1, 2]
    assert all(m.status == MatchStatus.PROPOSED for m in matches)
    events = AuditEvent.objects.filter(target_type="assistance.socialmatch")
    assert set(events.values_list("subject", flat=True)) == {
        f"registry.household:{m.household_id}" for m in matches
    }


def test_proposals_fit_the_offer_kind(district_staff):
    job = _offer(district_staff, capacity=10)
    employment = _monitored()
    need = _need(employment, "劳务输出（转移就业）")
    welfare_job = _monitored()
    _need(welfare_job, "公益性岗位")
    health_only = _monitored()
    _need(health_only, "医疗救助")
    student = _monitored()
    _need(student, "雨露计划")

    proposed = matches_propose(actor=district_staff, offer=job, today=TODAY)
    assert set(_proposed_households(proposed)) == {employment.pk, welfare_job.pk}
    assert next(m for m in proposed if m.household_id == employment.pk).need_id == need.pk

    training = _offer(
        district_staff, kind=OfferKind.TRAINING, measure=_measure("扶志教育与技能指导"), capacity=10
    )
    proposed = matches_propose(actor=district_staff, offer=training, today=TODAY)
    assert set(_proposed_households(proposed)) == {employment.pk, student.pk}


def test_proposals_skip_met_needs_and_unmonitored_households(district_staff):
    offer = _offer(district_staff, capacity=10)
    delivered = _monitored()
    plan_measure_progress(
        actor=None, plan_measure=_need(delivered), status=MeasureStatus.DELIVERED, today=TODAY
    )
    in_progress = _monitored()
    plan_measure_progress(
        actor=None, plan_measure=_need(in_progress), status=MeasureStatus.IN_PROGRESS, today=TODAY
    )
    eliminated_later = _monitored()
    _need(eliminated_later)
    from shouwang.registry.services import household_update

    household_update(
        actor=None,
        household=eliminated_later,
        data={
            "monitoring_status": rc.MonitoringStatus.NOT_MONITORED,
            "household_type": rc.HouseholdType.POVERTY_EXITED,
            "monitoring_category": "",
            "identified_month": "",
            "risk_type_1": "",
        },
    )

    proposed = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    assert _proposed_households(proposed) == [in_progress.pk]


def test_proposals_stay_in_the_actors_area(township_staff, district_staff):
    offer = _offer(district_staff, capacity=10, division=None)
    mine = _monitored(f.VILLAGE_B)
    _need(mine)
    _need(_monitored(f.VILLAGE_OTHER_TOWNSHIP))

    proposed = matches_propose(actor=township_staff, offer=offer, today=TODAY)

    assert _proposed_households(proposed) == [mine.pk]
    assert proposed[0].distance == 5


def test_proposals_are_limited_per_free_place_and_skip_matched_households(district_staff):
    offer = _offer(district_staff, capacity=1)
    households = [_monitored() for _ in range(4)]
    for household in households:
        _need(household)

    first = matches_propose(actor=district_staff, offer=offer, today=TODAY)
    assert len(first) == PROPOSALS_PER_PLACE
    with pytest.raises(ApplicationError, match="待确认"):
        matches_propose(actor=district_staff, offer=offer, today=TODAY)

    match_decline(actor=district_staff, match=first[0], note="农户不愿外出")
    again = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    assert len(again) == 1
    matched = {m.household_id for m in first}
    assert again[0].household_id not in matched


def test_no_proposals_for_closed_or_expired_offers(district_staff):
    _need(_monitored())
    expired = _offer(district_staff, valid_until=TODAY - dt.timedelta(days=1))
    with pytest.raises(ApplicationError, match="有效期"):
        matches_propose(actor=district_staff, offer=expired, today=TODAY)
    closed = offer_close(actor=district_staff, offer=_offer(district_staff))
    with pytest.raises(ApplicationError, match="已结束"):
        matches_propose(actor=district_staff, offer=closed, today=TODAY)


def test_department_officer_cannot_propose(department_officer, district_staff):
    offer = _offer(district_staff)
    with pytest.raises(PermissionDenied):
        matches_propose(actor=department_officer, offer=offer, today=TODAY)


# --- confirmation ------------------------------------------------------------------------


def test_confirm_turns_the_match_into_a_plan_measure(district_staff, village_cadre):
    offer = _offer(district_staff)
    household = _monitored()
    need = _need(household)
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    match = match_confirm(
        actor=village_cadre, match=match, planned_end=TODAY + dt.timedelta(days=30), today=TODAY
    )

    assert match.status == MatchStatus.CONFIRMED
    assert match.decided_by == village_cadre
    pm = match.plan_measure
    assert pm.plan.household_id == household.pk
    assert pm.source == MeasureSource.SOCIAL_MATCH
    assert pm.measure.name == JOB_MEASURE
    assert pm.department == "cooperation"
    assert pm.responsible_person == "淄博某纺织有限公司"
    assert pm.amount == Decimal("3000")
    assert pm.planned_start == TODAY
    assert pm.planned_end == TODAY + dt.timedelta(days=30)
    assert "淄博某纺织有限公司" in pm.reason and need.measure.name in pm.reason
    need.refresh_from_db()
    assert need.status == MeasureStatus.PLANNED  # another measure: the need stays
    subjects = set(
        AuditEvent.objects.filter(target_type="assistance.socialmatch").values_list(
            "subject", flat=True
        )
    )
    assert subjects == {f"registry.household:{household.pk}"}
    assert AuditEvent.objects.filter(
        target_type="assistance.planmeasure", target_id=str(pm.pk), action="create"
    ).exists()


def test_confirm_takes_over_a_planned_entry_of_the_same_measure(district_staff):
    offer = _offer(
        district_staff,
        kind=OfferKind.TRAINING,
        measure=_measure("技能培训"),
        title="电商直播培训",
        amount_per_household=None,
    )
    household = _monitored()
    need = _need(household, "技能培训")
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    match = match_confirm(
        actor=district_staff, match=match, responsible_person="王老师", today=TODAY
    )

    need.refresh_from_db()
    assert need.status == MeasureStatus.STOPPED
    assert "改由社会帮扶对接落实" in need.status_note
    assert match.plan_measure.measure.name == "技能培训"
    assert match.plan_measure.responsible_person == "王老师"
    assert match.plan_measure.status == MeasureStatus.PLANNED


def test_capacity_cannot_be_exceeded(district_staff):
    offer = _offer(district_staff, capacity=1)
    for _ in range(2):
        _need(_monitored())
    first, second = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    match_confirm(actor=district_staff, match=first, today=TODAY)
    with pytest.raises(ApplicationError, match="名额已满"):
        match_confirm(actor=district_staff, match=second, today=TODAY)

    second.refresh_from_db()
    assert second.status == MatchStatus.PROPOSED
    assert offer_get(actor=district_staff, pk=offer.pk).remaining == 0
    with pytest.raises(ApplicationError, match="名额已满"):
        matches_propose(actor=district_staff, offer=offer, today=TODAY)


def test_confirm_refuses_closed_and_expired_offers(district_staff):
    offer = _offer(district_staff, valid_until=TODAY)
    _need(_monitored())
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    with pytest.raises(ApplicationError, match="有效期"):
        match_confirm(actor=district_staff, match=match, today=TODAY + dt.timedelta(days=1))

    offer_close(actor=district_staff, offer=offer, note="企业招满")
    match.refresh_from_db()
    assert match.status == MatchStatus.DECLINED  # closing declines what waited
    assert "企业招满" in match.note
    with pytest.raises(ApplicationError, match="已放弃"):
        match_confirm(actor=district_staff, match=match, today=TODAY)


def test_decline_needs_a_reason_and_is_final(village_cadre, district_staff):
    offer = _offer(district_staff)
    _need(_monitored())
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)

    with pytest.raises(ApplicationError, match="原因"):
        match_decline(actor=village_cadre, match=match, note="  ")
    match = match_decline(actor=village_cadre, match=match, note="家中有病人需照顾")

    assert match.status == MatchStatus.DECLINED
    assert match.plan_measure is None
    assert not PlanMeasure.objects.filter(source=MeasureSource.SOCIAL_MATCH).exists()
    with pytest.raises(ApplicationError):
        match_confirm(actor=village_cadre, match=match, today=TODAY)


def test_only_planners_of_the_households_area_decide(district_staff, department_officer):
    offer = _offer(district_staff, division=None)
    _need(_monitored(f.VILLAGE_OTHER_TOWNSHIP))
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)
    huolu = f.make_user("huolu-2", Role.TOWNSHIP_STAFF, [f.TOWNSHIP_HUOLU])

    with pytest.raises(PermissionDenied, match="管辖范围"):
        match_confirm(actor=huolu, match=match, today=TODAY)
    with pytest.raises(PermissionDenied):
        match_decline(actor=department_officer, match=match, note="x")
    assert not match_list(actor=huolu).exists()
    fengshan = f.make_user("fengshan", Role.TOWNSHIP_STAFF, [TOWNSHIP_FENGSHAN])
    assert list(match_pending(actor=fengshan, today=TODAY)) == [match]


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def offer_with_match(district_staff):
    offer = _offer(district_staff, capacity=3)
    household = _monitored()
    _need(household)
    (match,) = matches_propose(actor=district_staff, offer=offer, today=TODAY)
    return offer, match


def test_offer_list_page(client, village_cadre, offer_with_match, district_staff):
    offer, _match = offer_with_match
    _offer(
        district_staff,
        title="他镇岗位",
        division=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP),
    )
    client.force_login(village_cadre)

    response = client.get(reverse("social:offer_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "纺织车间普工" in html
    assert "他镇岗位" not in html
    assert "登记帮扶资源" not in html  # a village cadre does not register offers
    assert 'href="/social/matches/"' in html


def test_offer_list_query_count(client, district_staff, django_assert_num_queries):
    for i in range(3):
        _offer(district_staff, title=f"岗位{i}")
    client.force_login(district_staff)
    client.get(reverse("social:offer_list"))  # warm the session
    # session, user, divisions, count, rows, pending count
    with django_assert_num_queries(6):
        response = client.get(reverse("social:offer_list"))
    assert response.status_code == 200


def test_department_officer_gets_403(client, department_officer):
    client.force_login(department_officer)
    assert client.get(reverse("social:offer_list")).status_code == 403
    assert client.get(reverse("social:match_list")).status_code == 403


def test_offer_create_page(client, township_staff):
    client.force_login(township_staff)
    url = reverse("social:offer_create")
    assert client.get(url).status_code == 200
    data = {
        "organisation": "武隆某农业公司",
        "organisation_kind": OrganisationKind.COMPANY,
        "programme": Programme.WANQI_XINGWANCUN,
        "kind": OfferKind.PURCHASE,
        "measure": _measure("消费帮扶（农产品采购）").pk,
        "title": "高山蔬菜订单收购",
        "division": f.TOWNSHIP_HUOLU,
        "capacity": "",
        "amount_per_household": "2000",
    }

    response = client.post(url, data)  # capacity missing

    assert response.status_code == 200
    html = response.content.decode()
    assert "高山蔬菜订单收购" in html  # nothing lost
    assert "这个字段是必填项" in html or "此字段为必填项" in html or "必填" in html
    assert not SocialOffer.objects.exists()

    response = client.post(url, {**data, "capacity": "20"})
    offer = SocialOffer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("social:offer_detail", args=[offer.pk])
    assert offer.registered_by == township_staff


def test_offer_create_page_shows_kind_mismatch_under_the_field(client, district_staff):
    client.force_login(district_staff)
    response = client.post(
        reverse("social:offer_create"),
        {
            "organisation": "爱心人士",
            "organisation_kind": OrganisationKind.INDIVIDUAL,
            "programme": Programme.OTHER,
            "kind": OfferKind.JOB,
            "measure": _measure("医疗救助").pk,
            "title": "助学",
            "capacity": "3",
        },
    )
    assert response.status_code == 200
    assert "就业岗位对应的措施应属于：就业帮扶、公益岗位帮扶、社会帮扶" in response.content.decode()
    assert not SocialOffer.objects.exists()


def test_village_cadre_cannot_open_offer_form(client, village_cadre):
    client.force_login(village_cadre)
    assert client.get(reverse("social:offer_create")).status_code == 403


def test_offer_detail_404_outside_the_area(client, township_staff, district_staff):
    other = _offer(district_staff, division=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP))
    client.force_login(township_staff)
    assert client.get(reverse("social:offer_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("social:offer_propose", args=[other.pk])).status_code == 404


def test_offer_detail_propose_and_confirm_through_the_pages(client, village_cadre, district_staff):
    offer = _offer(district_staff)
    household = _monitored()
    _need(household)
    client.force_login(village_cadre)
    detail = reverse("social:offer_detail", args=[offer.pk])

    html = client.get(detail).content.decode()
    assert "生成对接建议" in html

    response = client.post(reverse("social:offer_propose", args=[offer.pk]), follow=True)
    assert "已生成 1 条对接建议" in response.content.decode()
    match = SocialMatch.objects.get(offer=offer)
    assert "确认对接" in response.content.decode()

    response = client.post(
        reverse("social:match_confirm", args=[match.pk]),
        {"responsible_person": "", "planned_end": "", "next": detail},
    )
    assert response.status_code == 302 and response.url == detail
    match.refresh_from_db()
    assert match.status == MatchStatus.CONFIRMED
    assert match.plan_measure.source == MeasureSource.SOCIAL_MATCH


def test_decline_page_keeps_the_form_on_a_missing_reason(client, village_cadre, offer_with_match):
    _offer, match = offer_with_match
    client.force_login(village_cadre)

    response = client.post(reverse("social:match_decline", args=[match.pk]), {"note": ""})

    assert response.status_code == 200
    assert "请说明放弃对接的原因" in response.content.decode()
    match.refresh_from_db()
    assert match.status == MatchStatus.PROPOSED

    response = client.post(
        reverse("social:match_decline", args=[match.pk]),
        {"note": "已在本地就业", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.url == reverse("social:offer_detail", args=[match.offer_id])
    match.refresh_from_db()
    assert (match.status, match.note) == (MatchStatus.DECLINED, "已在本地就业")


def test_match_pages_404_outside_the_area(client, offer_with_match):
    _offer, match = offer_with_match
    other = f.make_user("other-cadre", Role.VILLAGE_CADRE, [f.VILLAGE_OTHER_TOWNSHIP])
    client.force_login(other)
    assert client.get(reverse("social:match_detail", args=[match.pk])).status_code == 404
    assert client.post(reverse("social:match_confirm", args=[match.pk])).status_code == 404
    assert "纺织车间普工" not in client.get(reverse("social:match_list")).content.decode()


def test_match_list_shows_pending_matches(
    client, village_cadre, offer_with_match, django_assert_num_queries
):
    _offer, match = offer_with_match
    client.force_login(village_cadre)
    url = reverse("social:match_list")
    client.get(url)
    # session, user, divisions, count, rows, pending count
    with django_assert_num_queries(6):
        response = client.get(url)
    html = response.content.decode()
    assert match.household.household_number in html
    assert "同村" in html
    assert "确认对接" in html


def test_offer_close_page(client, district_staff, offer_with_match):
    offer, match = offer_with_match
    client.force_login(district_staff)
    response = client.post(reverse("social:offer_close", args=[offer.pk]), {"note": "已招满"})
    assert response.status_code == 302
    offer.refresh_from_db()
    match.refresh_from_db()
    assert offer.status == OfferStatus.CLOSED
    assert match.status == MatchStatus.DECLINED


def test_offer_edit_page(client, district_staff, township_staff):
    offer = _offer(district_staff, division=Division.objects.get(code=f.VILLAGE_OTHER_TOWNSHIP))
    client.force_login(township_staff)
    assert client.get(reverse("social:offer_edit", args=[offer.pk])).status_code == 404
    county_offer = _offer(district_staff, division=Division.objects.get(code=f.COUNTY_WULONG))
    # Seen in the township, but registered above it: only its registrars may change it.
    assert client.get(reverse("social:offer_edit", args=[county_offer.pk])).status_code == 403

    client.force_login(district_staff)
    url = reverse("social:offer_edit", args=[county_offer.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(title="新标题", measure=county_offer.measure_id, division=f.COUNTY_WULONG)
    data.pop("id", None)
    response = client.post(url, data)
    assert response.status_code == 302
    county_offer.refresh_from_db()
    assert county_offer.title == "新标题"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory SQLite test database serialises threads; runs on PostgreSQL",
)
def test_concurrent_confirmations_cannot_pass_capacity(committed_divisions):
    staff = f.make_user("district-staff-race", Role.DISTRICT_STAFF, [f.COUNTY_WULONG])
    offer = _offer(staff, capacity=1)
    for _ in range(2):
        _need(_monitored())
    matches = matches_propose(actor=staff, offer=offer, today=TODAY)
    assert len(matches) == 2
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(match: SocialMatch) -> None:
        try:
            barrier.wait(timeout=10)
            match_confirm(actor=staff, match=match, today=TODAY)
            outcomes.append("confirmed")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(m,)) for m in matches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0] == "confirmed" and len(outcomes) == 2
    assert "名额已满" in sorted(outcomes)[1]
    assert SocialMatch.objects.filter(status=MatchStatus.CONFIRMED).count() == 1
    assert PlanMeasure.objects.filter(source=MeasureSource.SOCIAL_MATCH).count() == 1


def test_offer_detail_query_count(client, district_staff, django_assert_num_queries):
    offer = _offer(district_staff, capacity=10)
    for _ in range(2):
        _need(_monitored())
    matches_propose(actor=district_staff, offer=offer, today=TODAY)
    client.force_login(district_staff)
    url = reverse("social:offer_detail", args=[offer.pk])
    client.get(url)
    # session, user, divisions, offer, group names, match count, match rows
    with django_assert_num_queries(7):
        response = client.get(url)
    for _ in range(3):
        _need(_monitored(f.VILLAGE_B))
    matches_propose(actor=district_staff, offer=offer, today=TODAY)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["matches"]) == 5


def test_list_filters_answer_htmx_with_the_results_only(client, district_staff, offer_with_match):
    client.force_login(district_staff)
    for url in (reverse("social:offer_list"), reverse("social:match_list")):
        response = client.get(url, {"kind": OfferKind.JOB}, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<section id="results"')
        assert "纺织车间普工" in html
    response = client.get(
        reverse("social:offer_list"), {"kind": OfferKind.DONATION}, HTTP_HX_REQUEST="true"
    )
    assert "没有符合条件的帮扶资源" in response.content.decode()
