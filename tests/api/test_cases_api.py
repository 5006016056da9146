"""The leads and cases API: scoped to the user's area, leads recorded, closed and turned into
cases, each workflow verb as an action validated by its step's record, transitions, and risk
elimination started with POST /api/cases/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shouwang.cases.choices import CaseKind, CaseState, LeadChannel, LeadStatus
from shouwang.cases.models import Case, Lead
from shouwang.cases.services import case_open, lead_create
from shouwang.registry import choices as rc
from tests import factories as f
from tests.cases.steps import APPLICATION, DECISION, HOME_VISIT, OPINION, REVIEW
from tests.screening.helpers import alerts_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.django_db


@pytest.fixture
def township_api(api_client_for, township_staff):
    return api_client_for(township_staff)


@pytest.fixture
def households():
    return {
        "mine": f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY),
        "neighbour": f.make_household(f.VILLAGE_B, household_type=rc.HouseholdType.ORDINARY),
    }


def visit_lead(household):
    return lead_create(
        actor=None,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主住院，花费较大",
        received_on=dt.date(2026, 11, 2),
    )


@pytest.fixture
def leads(households):
    return {name: visit_lead(h) for name, h in households.items()}


# Leads


def test_leads_are_scoped_to_the_area(cadre_api, township_api, leads):
    response = cadre_api.get("/api/leads/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [leads["mine"].pk]
    assert response.json()["results"][0]["channel_display"] == "干部走访排查"

    other = leads["neighbour"].pk
    assert cadre_api.get(f"/api/leads/{other}/").status_code == 404
    assert (
        cadre_api.post(f"/api/leads/{other}/close/", {"reason": "x"}, format="json").status_code
        == 404
    )
    assert cadre_api.post(f"/api/leads/{other}/open-case/", {}, format="json").status_code == 404
    assert len(township_api.get("/api/leads/").json()["results"]) == 2


def test_lead_filters(township_api, leads):
    rows = township_api.get("/api/leads/", {"village": f.VILLAGE_B}).json()["results"]
    assert [row["id"] for row in rows] == [leads["neighbour"].pk]
    assert township_api.get("/api/leads/", {"status": "closed"}).json()["results"] == []
    response = township_api.get("/api/leads/", {"status": "nonsense"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_department_officers_see_no_leads_and_record_none(
    api_client_for, department_officer, leads
):
    api = api_client_for(department_officer)
    assert api.get("/api/leads/").json()["results"] == []
    response = api.post(
        "/api/leads/",
        {
            "channel": "home_visit",
            "household": leads["mine"].household_id,
            "description": "走访",
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能登记线索或启动识别"
    assert not Lead.objects.filter(reported_by=department_officer).exists()


def test_record_a_lead_on_a_household(cadre_api, village_cadre, households):
    response = cadre_api.post(
        "/api/leads/",
        {
            "channel": "whistleblower",
            "household": households["mine"].pk,
            "description": "邻居反映其家中困难",
            "reporter_name": "邻居",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.household, lead.reported_by, lead.received_on) == (
        households["mine"],
        village_cadre,
        timezone.localdate(),
    )
    assert body["household_number"] == households["mine"].household_number
    assert body["status"] == "open"


def test_record_a_person_and_the_numbers_stay_masked(cadre_api):
    id_number = f.next_id_number()
    response = cadre_api.post(
        "/api/leads/",
        {
            "channel": "petition",
            "person_name": "孙七",
            "id_number": id_number,
            "phone": "13700001111",
            "village": f.VILLAGE_A,
            "description": "来信反映家中无劳动力",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "id_number" not in body and "phone" not in body
    assert body["phone_masked"] == "137****1111"
    assert id_number not in str(body)


def test_lead_input_errors_name_their_fields(cadre_api, households):
    response = cadre_api.post(
        "/api/leads/",
        {"channel": "media", "description": "报道", "id_number": "123"},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert "id_number" in fields

    response = cadre_api.post(
        "/api/leads/", {"channel": "media", "description": "报道"}, format="json"
    )
    assert set(response.json()["extra"]["fields"]) == {"person_name", "id_number", "village"}

    # Another village's household and village do not exist for this cadre.
    response = cadre_api.post(
        "/api/leads/",
        {"channel": "media", "description": "报道", "household": households["neighbour"].pk},
        format="json",
    )
    assert response.status_code == 400 and "household" in response.json()["extra"]["fields"]
    response = cadre_api.post(
        "/api/leads/",
        {
            "channel": "self_application",
            "description": "报道",
            "household": households["mine"].pk,
        },
        format="json",
    )
    assert "channel" in response.json()["extra"]["fields"]


def test_close_a_lead(cadre_api, leads):
    url = f"/api/leads/{leads['mine'].pk}/close/"
    response = cadre_api.post(url, {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["extra"]["fields"]

    response = cadre_api.post(url, {"reason": "经核实无风险"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == LeadStatus.CLOSED
    again = cadre_api.post(url, {"reason": "再关一次"}, format="json")
    assert again.status_code == 400
    assert again.json()["message"] == "该线索已处理（已关闭），不能关闭"


def test_open_a_case_from_a_lead(cadre_api, leads):
    url = f"/api/leads/{leads['mine'].pk}/open-case/"
    response = cadre_api.post(url, {"green_channel": True}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "启用绿色通道须说明事由（如自然灾害、意外事故）"

    response = cadre_api.post(
        url, {"green_channel": True, "green_channel_reason": "房屋因灾倒塌"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == CaseState.APPLICATION and body["green_channel"]
    assert (body["step_number"], body["step_count"], body["step_label"]) == (2, 6, "农户申请")
    assert body["allowed_verbs"] == ["apply", "withdraw"]
    assert cadre_api.get(f"/api/leads/{leads['mine'].pk}/").json()["cases"] == [body["id"]]


def test_an_alert_turned_into_a_lead_answers_with_the_lead(cadre_api, households):
    alert = alerts_for(households["mine"])[households["mine"].pk]
    response = cadre_api.post(
        f"/api/alerts/{alert.pk}/open-lead/", {"note": "转入户核查"}, format="json"
    )
    assert response.status_code == 200, response.json()
    lead = Lead.objects.get(alert=alert)
    assert response.json()["lead"] == lead.pk
    assert response.json()["status"] == "lead_opened"
    assert cadre_api.get(f"/api/leads/{lead.pk}/").json()["alert"] == alert.pk


# Cases


@pytest.fixture
def case(leads, village_cadre):
    return case_open(actor=village_cadre, lead=leads["mine"], today=dt.date(2026, 11, 2))


def test_cases_are_scoped_and_filtered(cadre_api, township_api, district_api, case, leads):
    other = case_open(actor=None, lead=leads["neighbour"])
    assert [r["id"] for r in cadre_api.get("/api/cases/").json()["results"]] == [case.pk]
    assert cadre_api.get(f"/api/cases/{other.pk}/").status_code == 404
    assert (
        cadre_api.post(f"/api/cases/{other.pk}/apply/", APPLICATION, format="json").status_code
        == 404
    )
    assert cadre_api.get(f"/api/cases/{other.pk}/transitions/").status_code == 404

    rows = district_api.get("/api/cases/", {"village": f.VILLAGE_B}).json()["results"]
    assert [r["id"] for r in rows] == [other.pk]
    assert district_api.get("/api/cases/", {"kind": "elimination"}).json()["results"] == []
    # The township sees both, and may take neither village step.
    rows = township_api.get("/api/cases/").json()["results"]
    assert {r["id"] for r in rows} == {case.pk, other.pk}
    assert all(r["allowed_verbs"] == ["withdraw"] for r in rows)


def test_the_six_steps_through_the_api(cadre_api, township_api, district_api, case):
    url = f"/api/cases/{case.pk}/"
    assert (
        cadre_api.post(f"{url}apply/", APPLICATION, format="json").json()["state"] == "verification"
    )

    # The step's record form checks the body; reasons are listed per field.
    bad = cadre_api.post(f"{url}verify/", {**HOME_VISIT, "wage_income": "-1"}, format="json")
    assert bad.status_code == 400
    assert "wage_income" in bad.json()["extra"]["errors"]
    missing = cadre_api.post(
        f"{url}verify/", {**HOME_VISIT, "proposed_risk_types": []}, format="json"
    )
    assert missing.json()["extra"]["errors"]["proposed_risk_types"] == ["请至少选择一项风险类型"]

    # The signed visit record is required first (a policy value), uploaded through the API.
    refused = cadre_api.post(f"{url}verify/", HOME_VISIT, format="json")
    assert refused.status_code == 400 and "入户核实记录（签字）" in refused.json()["message"]
    uploaded = cadre_api.post(
        f"{url}attachments/",
        {"kind": "visit_record", "file": SimpleUploadedFile("签字.png", PNG)},
        format="multipart",
    )
    assert uploaded.status_code == 201 and uploaded.json()["title"] == "入户核实记录（签字）"
    assert [a["kind"] for a in cadre_api.get(f"{url}attachments/").json()] == ["visit_record"]
    body = cadre_api.post(f"{url}verify/", HOME_VISIT, format="json").json()
    assert body["state"] == "village_review" and body["per_capita_net_income"] == "3200.00"
    # A verb the step does not have, and a step of another level.
    wrong = cadre_api.post(f"{url}approve/", DECISION, format="json")
    assert wrong.status_code == 400 and "不能执行" in wrong.json()["message"]
    assert township_api.post(f"{url}review/", REVIEW, format="json").status_code == 403

    body = cadre_api.post(f"{url}review/", REVIEW, format="json").json()
    assert body["state"] == "notice"
    early = cadre_api.post(f"{url}close-notice/", {}, format="json")
    assert early.status_code == 400 and "公示期至" in early.json()["message"]

    # Let the notice run out, with its photo.
    Case.objects.filter(pk=case.pk).update(notice_ends_on=dt.date(2000, 1, 1))
    cadre_api.post(
        f"{url}attachments/",
        {"kind": "notice_photo", "file": SimpleUploadedFile("公示.png", PNG)},
        format="multipart",
    )
    assert (
        cadre_api.post(f"{url}close-notice/", {}, format="json").json()["state"]
        == "township_review"
    )
    assert cadre_api.post(f"{url}township-approve/", OPINION, format="json").status_code == 403
    assert township_api.post(f"{url}township-approve/", OPINION, format="json").status_code == 200
    body = district_api.post(f"{url}approve/", DECISION, format="json").json()
    assert body["state"] == "approved" and body["decided_month"] == "202611"
    assert body["step_number"] is None and body["allowed_verbs"] == []

    steps = cadre_api.get(f"{url}transitions/").json()
    assert [s["verb"] for s in steps] == [
        "apply",
        "verify",
        "review",
        "close_notice",
        "township_approve",
        "approve",
    ]
    assert steps[0]["actor_name"] == "村干部甲"
    assert steps[-1]["data"]["decided_on"] == "2026-11-16"


def test_start_risk_elimination(cadre_api, households):
    monitored = f.make_household(
        f.VILLAGE_A,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.SUDDEN_HARDSHIP,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202503",
        risk_type_1=rc.RiskType.ILLNESS,
    )
    refused = cadre_api.post(
        "/api/cases/", {"kind": "identification", "household": monitored.pk}, format="json"
    )
    assert refused.status_code == 400 and "kind" in refused.json()["extra"]["fields"]
    not_monitored = cadre_api.post(
        "/api/cases/", {"kind": "elimination", "household": households["mine"].pk}, format="json"
    )
    assert not_monitored.status_code == 400
    assert not_monitored.json()["message"] == "只有风险未消除的监测对象才能启动风险消除"

    response = cadre_api.post(
        "/api/cases/", {"kind": "elimination", "household": monitored.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["state"], body["step_label"]) == (
        CaseKind.ELIMINATION,
        CaseState.NOMINATION,
        "村（社区）提名",
    )
    assert body["allowed_verbs"] == ["nominate", "withdraw"]


def test_withdraw_needs_a_reason(cadre_api, case):
    response = cadre_api.post(f"/api/cases/{case.pk}/withdraw/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "请说明原因",
        "code": response.json()["code"],
        "extra": {"errors": {"reason": ["请说明原因"]}},
    }


def test_lists_take_a_constant_number_of_queries(
    district_api, district_staff, django_assert_max_num_queries
):
    for code in (f.VILLAGE_A, f.VILLAGE_B, f.VILLAGE_OTHER_TOWNSHIP):
        lead = visit_lead(f.make_household(code, members=1))
        case_open(actor=district_staff, lead=lead)
        visit_lead(lead.household)  # merged into the first

    with django_assert_max_num_queries(8):
        leads = district_api.get("/api/leads/").json()["results"]
    with django_assert_max_num_queries(8):
        cases = district_api.get("/api/cases/").json()["results"]
    assert len(leads) == 6 and len(cases) == 3
