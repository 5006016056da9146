"""Social help through the API: offers registered by staff, proposals, confirmation into the
household's plan and declines, with the services' refusals (another area's record is a 404,
the wrong role a 403, a refused move a 400)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.assistance.choices import MatchStatus, MeasureSource, OfferStatus
from shouwang.assistance.models import Measure, PlanMeasure, SocialMatch, SocialOffer
from shouwang.assistance.services import plan_accept
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
OFFERS = "/api/social-offers/"
MATCHES = "/api/social-matches/"


@pytest.fixture
def staff_api(api_client_for, district_staff):
    return api_client_for(district_staff)


@pytest.fixture
def township_api(api_client_for, township_staff):
    return api_client_for(township_staff)


def _monitored(village: str = f.VILLAGE_A):
    return f.make_household(
        village,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202601",
        risk_type_1=rc.RiskType.UNSTABLE_EMPLOYMENT,
    )


def _need(household, name: str = "劳务输出（转移就业）", days: int = 60) -> PlanMeasure:
    plan = plan_accept(
        actor=None,
        household=household,
        items=[
            {
                "measure": Measure.objects.get(name=name),
                "planned_end": TODAY + dt.timedelta(days=days),
            }
        ],
    )
    return plan.measures.get(measure__name=name)


def _offer_body(**data) -> dict:
    body = {
        "organisation": "淄博某纺织有限公司",
        "organisation_kind": "paired_region",
        "programme": "luyu",
        "kind": "job",
        "measure": Measure.objects.get(name="鲁渝协作就业岗位").pk,
        "title": "纺织车间普工",
        "division": f.VILLAGE_A,
        "capacity": 2,
        "amount_per_household": "3000.00",
    }
    body.update(data)
    return body


def test_register_offer_and_read_it_back(township_api):
    response = township_api.post(OFFERS, _offer_body(), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["kind"] == "job" and data["kind_display"] == "就业岗位"
    assert data["measure_name"] == "鲁渝协作就业岗位"
    assert (data["capacity"], data["confirmed_count"], data["remaining"]) == (2, 0, 2)
    assert data["live"] is True and data["can_edit"] is True
    assert data["status"] == OfferStatus.OPEN
    offer = SocialOffer.objects.get(pk=data["id"])
    assert AuditEvent.objects.filter(
        target_type="assistance.socialoffer", target_id=str(offer.pk), action="create"
    ).exists()

    listed = township_api.get(OFFERS, {"kind": "job"}).json()
    assert [row["id"] for row in listed["results"]] == [offer.pk]


def test_offer_refusals(township_api, cadre_api):
    other = township_api.post(OFFERS, _offer_body(division=f.VILLAGE_OTHER_TOWNSHIP), format="json")
    assert other.status_code == 403
    assert "管辖范围" in other.json()["message"]

    mismatch = township_api.post(
        OFFERS, _offer_body(measure=Measure.objects.get(name="医疗救助").pk), format="json"
    )
    assert mismatch.status_code == 400
    assert "measure" in mismatch.json()["extra"]["fields"]

    missing = township_api.post(OFFERS, _offer_body(capacity=0), format="json")
    assert missing.status_code == 400
    assert "capacity" in missing.json()["extra"]["fields"]

    assert cadre_api.post(OFFERS, _offer_body(), format="json").status_code == 403
    assert not SocialOffer.objects.exists()


def test_offer_update_and_no_delete(staff_api, township_api):
    offer_id = staff_api.post(OFFERS, _offer_body(), format="json").json()["id"]

    patched = staff_api.patch(f"{OFFERS}{offer_id}/", {"capacity": 5}, format="json")
    assert patched.status_code == 200
    assert patched.json()["capacity"] == 5
    put = staff_api.put(f"{OFFERS}{offer_id}/", _offer_body(title="普工（长期）"), format="json")
    assert put.status_code == 200
    assert put.json()["title"] == "普工（长期）"
    assert staff_api.delete(f"{OFFERS}{offer_id}/").status_code == 405

    county = staff_api.post(OFFERS, _offer_body(division=f.COUNTY_WULONG), format="json").json()
    # The township sees a county-wide offer but may not change it.
    assert township_api.get(f"{OFFERS}{county['id']}/").json()["can_edit"] is False
    assert (
        township_api.patch(f"{OFFERS}{county['id']}/", {"title": "x"}, format="json").status_code
        == 403
    )


def test_other_township_offer_is_404(staff_api, api_client_for):
    offer_id = staff_api.post(OFFERS, _offer_body(), format="json").json()["id"]
    fengshan = api_client_for(f.make_user("fs", Role.TOWNSHIP_STAFF, ["500156001000"]))
    assert fengshan.get(f"{OFFERS}{offer_id}/").status_code == 404
    assert fengshan.post(f"{OFFERS}{offer_id}/propose/").status_code == 404


def test_department_officer_is_refused(api_client_for, department_officer):
    api = api_client_for(department_officer)
    assert api.get(OFFERS).status_code == 403
    assert api.get(MATCHES).status_code == 403


def test_propose_confirm_and_decline(staff_api, cadre_api):
    near = _monitored(f.VILLAGE_A)
    need = _need(near, days=90)
    nearby = _monitored(f.VILLAGE_B)
    _need(nearby, days=10)
    far = _monitored(f.VILLAGE_OTHER_TOWNSHIP)
    _need(far, days=5)
    offer_id = staff_api.post(OFFERS, _offer_body(capacity=1), format="json").json()["id"]

    proposed = staff_api.post(f"{OFFERS}{offer_id}/propose/")

    assert proposed.status_code == 201
    rows = proposed.json()
    assert [r["household"] for r in rows] == [near.pk, nearby.pk]  # two per free place
    assert [r["distance_display"] for r in rows] == ["同村", "同乡镇（街道）"]
    assert rows[0]["need"] == need.pk and rows[0]["need_measure_name"] == "劳务输出（转移就业）"

    # The village cadre sees their village's match only, and may decide it.
    listed = cadre_api.get(MATCHES, {"status": "proposed"}).json()["results"]
    assert [r["household"] for r in listed] == [near.pk]
    assert listed[0]["can_decide"] is True
    match_id = listed[0]["id"]

    confirmed = cadre_api.post(
        f"{MATCHES}{match_id}/confirm/", {"responsible_person": "李经理"}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.json()
    data = confirmed.json()
    assert data["status"] == MatchStatus.CONFIRMED and data["can_decide"] is False
    pm = PlanMeasure.objects.get(pk=data["plan_measure"])
    assert (pm.source, pm.responsible_person) == (MeasureSource.SOCIAL_MATCH, "李经理")
    assert pm.plan.household_id == near.pk

    # The place is taken: the other proposal can no longer be confirmed, only declined.
    other_id = rows[1]["id"]
    full = staff_api.post(f"{MATCHES}{other_id}/confirm/", {}, format="json")
    assert full.status_code == 400
    assert "名额已满" in full.json()["message"]
    no_reason = staff_api.post(f"{MATCHES}{other_id}/decline/", {"note": ""}, format="json")
    assert no_reason.status_code == 400
    declined = staff_api.post(f"{MATCHES}{other_id}/decline/", {"note": "名额已满"}, format="json")
    assert declined.status_code == 200
    assert declined.json()["status"] == MatchStatus.DECLINED

    offer = staff_api.get(f"{OFFERS}{offer_id}/").json()
    assert (offer["confirmed_count"], offer["proposed_count"], offer["remaining"]) == (1, 0, 0)
    assert staff_api.post(f"{OFFERS}{offer_id}/propose/").status_code == 400


def test_match_outside_the_area_is_404_and_wrong_role_403(staff_api, cadre_api):
    _need(_monitored(f.VILLAGE_OTHER_TOWNSHIP))
    offer_id = staff_api.post(OFFERS, _offer_body(division=None), format="json").json()["id"]
    (row,) = staff_api.post(f"{OFFERS}{offer_id}/propose/").json()

    assert cadre_api.get(f"{MATCHES}{row['id']}/").status_code == 404
    assert cadre_api.post(f"{MATCHES}{row['id']}/confirm/", {}, format="json").status_code == 404
    assert SocialMatch.objects.get(pk=row["id"]).status == MatchStatus.PROPOSED


def test_close_declines_pending(staff_api):
    _need(_monitored())
    offer_id = staff_api.post(OFFERS, _offer_body(), format="json").json()["id"]
    staff_api.post(f"{OFFERS}{offer_id}/propose/")

    closed = staff_api.post(f"{OFFERS}{offer_id}/close/", {"note": "企业招满"}, format="json")

    assert closed.status_code == 200
    assert closed.json()["status"] == OfferStatus.CLOSED and closed.json()["live"] is False
    assert set(SocialMatch.objects.values_list("status", flat=True)) == {MatchStatus.DECLINED}
    again = staff_api.post(f"{OFFERS}{offer_id}/close/", {}, format="json")
    assert again.status_code == 400


@pytest.mark.parametrize("url", [OFFERS, MATCHES])
def test_list_query_counts_do_not_grow_with_rows(url, staff_api, django_assert_num_queries):
    def grow(n: int) -> None:
        for _ in range(n):
            _need(_monitored())
        offer_id = staff_api.post(OFFERS, _offer_body(capacity=n), format="json").json()["id"]
        staff_api.post(f"{OFFERS}{offer_id}/propose/")

    grow(1)
    # token with its user, divisions, count, rows
    with django_assert_num_queries(4):
        assert staff_api.get(url).status_code == 200
    grow(3)
    with django_assert_num_queries(4):
        response = staff_api.get(url)
    assert response.json()["count"] > 1
