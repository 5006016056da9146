"""The routine work through the API: meetings, reviews, campaigns and checks, with the same
refusals as the pages (another area's record is a 404, the wrong role a 403)."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.cases.models import CampaignCheck, QuarterlyReview, VillageMeeting
from shouwang.cases.routine_selectors import month_of, quarter_of
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from tests import factories as f
from tests.cases.routine_helpers import ALL_DECISIONS, alert_for, monitored

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def township_api(api_client_for, township_staff):
    return api_client_for(township_staff)


@pytest.fixture
def admin_api(api_client_for, district_admin):
    return api_client_for(district_admin)


def _meeting_body(**extra):
    return {
        "village": f.VILLAGE_A,
        "month": month_of(TODAY),
        "held_on": TODAY.isoformat(),
        "attendees": "村支书、监测员",
        "decisions": ALL_DECISIONS,
        **extra,
    }


# -- meetings -----------------------------------------------------------------------------


def test_meeting_create_list_detail_and_patch(cadre_api, township_api):
    alert_for(monitored())
    preview = cadre_api.get("/api/meetings/agenda/", {"village": f.VILLAGE_A})
    assert preview.status_code == 200
    assert {e["kind"]: e["count"] for e in preview.json()}["alerts"] == 1

    response = cadre_api.post("/api/meetings/", _meeting_body(), format="json")
    assert response.status_code == 201, response.json()
    meeting = response.json()
    assert [i["kind"] for i in meeting["items"]][-1] == "monitor_report"
    assert meeting["items"][2]["details"][0]["type"] == "alert"

    again = cadre_api.post("/api/meetings/", _meeting_body(), format="json")
    assert again.status_code == 400 and "已登记" in again.json()["message"]

    listed = township_api.get("/api/meetings/", {"month": month_of(TODAY)}).json()
    assert [m["id"] for m in listed["results"]] == [meeting["id"]]

    patched = cadre_api.patch(
        f"/api/meetings/{meeting['id']}/",
        {"decisions": {"monitor_report": "补充：1 户返乡"}},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["items"][-1]["decision"] == "补充：1 户返乡"
    assert patched.json()["items"][0]["decision"] == ALL_DECISIONS["new_leads"]


def test_meeting_refusals(cadre_api, township_api, api_client_for):
    refused = township_api.post("/api/meetings/", _meeting_body(), format="json")
    assert refused.status_code == 403 and "村（社区）干部" in refused.json()["message"]
    other_village = cadre_api.post(
        "/api/meetings/", _meeting_body(village=f.VILLAGE_B), format="json"
    )
    assert other_village.status_code == 403
    missing_decision = cadre_api.post("/api/meetings/", _meeting_body(decisions={}), format="json")
    assert missing_decision.status_code == 400
    assert "monitor_report" in missing_decision.json()["extra"]["errors"]

    cadre_b = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    api_b = api_client_for(cadre_b)
    created = api_b.post("/api/meetings/", _meeting_body(village=f.VILLAGE_B), format="json")
    assert created.status_code == 201
    assert cadre_api.get(f"/api/meetings/{created.json()['id']}/").status_code == 404
    assert cadre_api.get("/api/meetings/agenda/", {"village": f.VILLAGE_B}).status_code == 404
    assert VillageMeeting.objects.count() == 1


def test_missing_meetings(cadre_api, township_api):
    rows = township_api.get("/api/meetings/missing/").json()
    codes = {r["village"] for r in rows}
    assert {f.VILLAGE_A, f.VILLAGE_B} <= codes
    assert all(c.startswith(f.TOWNSHIP_HUOLU[:9]) for c in codes)
    cadre_api.post("/api/meetings/", _meeting_body(), format="json")
    codes = {r["village"] for r in township_api.get("/api/meetings/missing/").json()}
    assert f.VILLAGE_A not in codes
    assert township_api.get("/api/meetings/missing/", {"month": "2026-11"}).status_code == 400


# -- reviews ------------------------------------------------------------------------------


def test_review_create_missing_and_uniqueness(cadre_api, township_api):
    household = monitored()
    other = monitored()
    missing = township_api.get("/api/reviews/missing/").json()
    assert {h["id"] for h in missing["results"]} == {household.pk, other.pk}

    body = {
        "household": household.pk,
        "reviewed_on": TODAY.isoformat(),
        "risk_present": True,
        "plan_needs_change": False,
        "reviewers": "村支书",
    }
    created = cadre_api.post("/api/reviews/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["quarter"] == quarter_of(TODAY)
    assert cadre_api.post("/api/reviews/", body, format="json").status_code == 400
    missing = township_api.get("/api/reviews/missing/").json()
    assert [h["id"] for h in missing["results"]] == [other.pk]
    assert township_api.get("/api/reviews/", {"household": household.pk}).json()["count"] == 1


def test_review_refusals(cadre_api, township_api):
    body = {
        "reviewed_on": TODAY.isoformat(),
        "risk_present": True,
        "plan_needs_change": False,
        "reviewers": "村支书",
    }
    elsewhere = monitored(f.VILLAGE_B)
    assert (
        cadre_api.post(
            "/api/reviews/", {**body, "household": elsewhere.pk}, format="json"
        ).status_code
        == 404
    )
    refused = township_api.post("/api/reviews/", {**body, "household": elsewhere.pk}, format="json")
    assert refused.status_code == 403
    assert not QuarterlyReview.objects.exists()


# -- campaigns ----------------------------------------------------------------------------


def _campaign(api, **extra):
    return api.post(
        "/api/campaigns/",
        {
            "name": "集中排查",
            "scope": f.COUNTY_WULONG,
            "starts_on": (TODAY - dt.timedelta(days=3)).isoformat(),
            "ends_on": (TODAY + dt.timedelta(days=27)).isoformat(),
            **extra,
        },
        format="json",
    )


def test_campaign_checks_apply_natural_changes(admin_api, cadre_api, township_api):
    assert _campaign(cadre_api).status_code == 403
    created = _campaign(admin_api)
    assert created.status_code == 201, created.json()
    campaign = created.json()["id"]

    household = f.make_household(members=2)
    head, son = household.members.order_by("id")
    response = cadre_api.post(
        f"/api/campaigns/{campaign}/checks/",
        {
            "household": household.pk,
            "checked_on": TODAY.isoformat(),
            "checker": "网格员甲",
            "result": "change_found",
            "note": "户主病故，添一孙女",
            "removals": [{"member_id": head.pk, "reason": "death"}],
            "new_head": son.pk,
            "additions": [
                {
                    "reason": "birth",
                    "name": "小花",
                    "id_number": f.next_id_number(birth=TODAY - dt.timedelta(days=40), male=False),
                    "relation": "granddaughter",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert [c["change"] for c in response.json()["changes"]] == ["death", "new_head", "birth"]
    household.refresh_from_db()
    assert household.head_name == son.name and household.member_count == 2
    assert (
        AuditEvent.objects.filter(
            subject=f"registry.household:{household.pk}", target_type="registry.member"
        )
        .filter(actor__username="cadre-a")
        .count()
        == 3
    )

    progress = township_api.get(f"/api/campaigns/{campaign}/progress/").json()
    assert progress["checked"] == 1 and progress["households"] == 1
    checks = township_api.get(f"/api/campaigns/{campaign}/checks/").json()
    assert checks["count"] == 1 and "id_number" not in str(checks)


def test_campaign_check_refusals(admin_api, cadre_api, township_api):
    campaign = _campaign(admin_api).json()["id"]
    elsewhere = f.make_household(f.VILLAGE_B)
    body = {
        "household": elsewhere.pk,
        "checked_on": TODAY.isoformat(),
        "checker": "网格员甲",
        "result": "no_change",
    }
    assert (
        cadre_api.post(f"/api/campaigns/{campaign}/checks/", body, format="json").status_code == 404
    )
    assert (
        township_api.post(f"/api/campaigns/{campaign}/checks/", body, format="json").status_code
        == 403
    )
    assert not CampaignCheck.objects.exists()
