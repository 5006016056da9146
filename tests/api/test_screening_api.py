import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent, Division
from shouwang.policy.models import PolicyValue
from shouwang.policy.services import policy_value_create
from shouwang.screening.filters import AlertFilterSet
from shouwang.screening.models import Alert, FeedBatch, FeedSource, Rule, RuleVersion, ScreeningRun
from shouwang.screening.selectors import alert_list
from tests import factories as f
from tests.api.screening_helpers import (
    MEDICAL_RULES,
    PERIOD,
    inpatient_row,
    screen_three_villages,
    stage_rows,
)

pytestmark = pytest.mark.django_db

#: A small rule of the admin's own: any inpatient stay with ≥ 1000 yuan paid by the person.
INPATIENT_SPEC = {
    "feed": "medical",
    "conditions": [{"field": "visit_type", "op": "eq", "value": "inpatient"}],
    "aggregate": {"function": "sum", "field": "out_of_pocket"},
    "window_months": 1,
    "per": "person",
    "comparison": "ge",
    "threshold": {"value": "1000"},
    "threshold_unregistered": None,
    "population": ["monitored", "risk_eliminated", "poverty_exited", "ordinary"],
    "risk_type": "illness",
    "severity": "low",
}


@pytest.fixture
def admin_api(api_client_for, district_admin):
    return api_client_for(district_admin)


@pytest.fixture
def township_api(api_client_for, township_staff):
    return api_client_for(township_staff)


@pytest.fixture
def screened(db):
    return screen_three_villages()


def count_queries(client, url, **query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query)
    assert response.status_code == 200, response.json()
    return len(queries), response.json()["count"]


# --- rules ----------------------------------------------------------------------------------


def test_rules_are_listed_with_their_spec_and_open_alerts(cadre_api, screened):
    body = cadre_api.get("/api/rules/", {"page_size": 100}).json()
    rows = {row["slug"]: row for row in body["results"]}
    assert body["count"] == Rule.objects.count() >= 13
    medical = rows["medical-out-of-pocket-12m"]
    assert medical["name"] == "近12个月医疗自付费用较高"
    assert medical["spec"]["threshold"] == {
        "parameter": "rural_disposable_income",
        "factor": "0.5",
        "year_offset": -1,
    }
    assert medical["risk_type_display"] == "因病"
    assert medical["severity_display"] == "高"
    assert medical["version"] == 1 and medical["builtin"] is True
    # Three households and the unregistered person, county-wide.
    assert medical["open_alerts"] == 4
    assert rows["housing-unsafe"]["open_alerts"] == 0


def test_rule_is_found_by_slug(cadre_api):
    body = cadre_api.get("/api/rules/housing-unsafe/").json()
    assert body["slug"] == "housing-unsafe"
    assert body["spec"]["conditions"] == [{"field": "grade", "op": "in", "value": ["C", "D"]}]
    missing = cadre_api.get("/api/rules/no-such-rule/")
    assert missing.status_code == 404
    assert missing.json() == {"message": "未找到。", "code": "not_found", "extra": {}}


def test_admin_creates_a_rule_which_is_versioned_and_audited(admin_api, district_admin):
    payload = {"slug": "inpatient-any", "name": "住院自付超千元", "spec": INPATIENT_SPEC}
    response = admin_api.post("/api/rules/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "inpatient-any"
    assert body["version"] == 1 and body["active"] is True and body["builtin"] is False
    assert body["severity"] == "low" and body["open_alerts"] == 0
    rule = Rule.objects.get(slug="inpatient-any")
    assert rule.versions.get().actor == district_admin
    assert AuditEvent.objects.filter(
        action="create", target_type="screening.rule", actor=district_admin
    ).exists()


def test_invalid_spec_lists_every_problem_in_chinese(admin_api):
    spec = {**INPATIENT_SPEC, "feed": "no-such-feed", "window_months": 0}
    response = admin_api.post(
        "/api/rules/", {"slug": "broken", "name": "错误", "spec": spec}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "application_error"
    assert body["message"].startswith("规则定义有误：")
    assert len(body["extra"]["errors"]) >= 2
    assert not Rule.objects.filter(slug="broken").exists()


def test_reserved_and_duplicate_slugs_are_refused(admin_api):
    reserved = admin_api.post(
        "/api/rules/", {"slug": "preview", "name": "x", "spec": INPATIENT_SPEC}, format="json"
    )
    assert reserved.status_code == 400
    assert reserved.json()["extra"]["fields"]["slug"] == ["“preview”为保留代码，请换一个"]
    taken = admin_api.post(
        "/api/rules/",
        {"slug": "housing-unsafe", "name": "x", "spec": INPATIENT_SPEC},
        format="json",
    )
    assert taken.status_code == 400
    assert taken.json()["message"] == "规则代码“housing-unsafe”已存在"


@pytest.mark.parametrize("client_name", ["district_api", "township_api", "cadre_api"])
def test_only_district_admins_write_rules(request, client_name):
    client = request.getfixturevalue(client_name)
    created = client.post(
        "/api/rules/", {"slug": "mine", "name": "x", "spec": INPATIENT_SPEC}, format="json"
    )
    assert created.status_code == 403
    assert created.json() == {
        "message": "只有区县管理员可以维护预警规则",
        "code": "permission_denied",
        "extra": {},
    }
    changed = client.patch("/api/rules/housing-unsafe/", {"active": False}, format="json")
    assert changed.status_code == 403
    assert Rule.objects.get(slug="housing-unsafe").active is True


def test_patch_saves_a_new_version_with_the_note(admin_api, district_admin):
    spec = Rule.objects.get(slug="housing-unsafe").spec
    spec = {**spec, "severity": "medium"}
    response = admin_api.patch(
        "/api/rules/housing-unsafe/", {"spec": spec, "note": "按县里口径调为中"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert response.json()["severity"] == "medium"
    versions = admin_api.get("/api/rules/housing-unsafe/versions/").json()
    assert [(v["version"], v["note"], v["spec"]["severity"]) for v in versions] == [
        (2, "按县里口径调为中", "medium"),
        (1, "系统预置", "high"),
    ]
    assert versions[0]["actor"] == district_admin.pk
    event = AuditEvent.objects.get(action="update", target_type="screening.rule")
    assert event.extra["note"] == "按县里口径调为中"


def test_patch_without_changes_makes_no_version(admin_api):
    response = admin_api.patch("/api/rules/housing-unsafe/", {"active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert RuleVersion.objects.filter(rule__slug="housing-unsafe").count() == 1


def test_put_needs_every_field(admin_api):
    response = admin_api.put("/api/rules/housing-unsafe/", {"name": "住房不安全"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"description", "spec", "active"}
    rule = Rule.objects.get(slug="housing-unsafe")
    full = {
        "name": "住房不安全",
        "description": rule.description,
        "spec": rule.spec,
        "active": False,
    }
    response = admin_api.put("/api/rules/housing-unsafe/", full, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "住房不安全" and response.json()["active"] is False
    assert response.json()["version"] == 2


def test_preview_of_a_saved_rule_counts_without_writing(admin_api, screened):
    alerts_before = Alert.objects.count()
    response = admin_api.post(
        "/api/rules/medical-out-of-pocket-12m/preview/", {"period": PERIOD}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["period"] == PERIOD
    assert (body["matches"], body["registered"], body["unregistered"]) == (4, 3, 1)
    assert body["already_alerted"] == 4
    # 50 % and 100 % of 2024's rural per-capita disposable income (23,119 yuan).
    assert (body["threshold_registered"], body["threshold_unregistered"]) == (
        "11559.50",
        "23119.00",
    )
    assert len(body["sample"]) == 4
    assert Alert.objects.count() == alerts_before


def test_preview_of_an_edited_spec_for_a_saved_rule(admin_api, screened):
    spec = {
        **Rule.objects.get(slug="medical-out-of-pocket-12m").spec,
        "threshold_unregistered": {"value": "50000"},
    }
    body = admin_api.post(
        "/api/rules/medical-out-of-pocket-12m/preview/",
        {"period": PERIOD, "spec": spec},
        format="json",
    ).json()
    assert (body["matches"], body["registered"], body["unregistered"]) == (3, 3, 0)
    assert body["threshold_unregistered"] == "50000.00"


def test_preview_of_an_unsaved_rule(admin_api, screened):
    response = admin_api.post(
        "/api/rules/preview/", {"spec": INPATIENT_SPEC, "period": PERIOD}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["matches"], body["registered"], body["unregistered"], body["already_alerted"]) == (
        3,
        3,
        0,
        0,
    )
    assert {row["subject_key"][:2] for row in body["sample"]} == {"p:"}
    assert not Rule.objects.filter(slug="preview").exists()


def test_preview_needs_a_spec_a_valid_period_and_an_admin(admin_api, district_api):
    missing = admin_api.post("/api/rules/preview/", {}, format="json")
    assert missing.status_code == 400
    assert "spec" in missing.json()["extra"]["fields"]
    bad_period = admin_api.post(
        "/api/rules/preview/", {"spec": INPATIENT_SPEC, "period": "2025-13"}, format="json"
    )
    assert bad_period.status_code == 400
    assert bad_period.json()["message"] == "期别“2025-13”格式不对，应为 年-月，例如 2026-10"
    staff = district_api.post("/api/rules/preview/", {"spec": INPATIENT_SPEC}, format="json")
    assert staff.status_code == 403


def test_rule_list_query_count_is_fixed(cadre_api, admin_api):
    few, count = count_queries(cadre_api, "/api/rules/")
    for n in range(5):
        response = admin_api.post(
            "/api/rules/",
            {"slug": f"extra-{n}", "name": f"规则{n}", "spec": INPATIENT_SPEC},
            format="json",
        )
        assert response.status_code == 201
    many, more = count_queries(cadre_api, "/api/rules/")
    assert more == count + 5
    # token, then the count and the page (open alerts counted in the same query)
    assert many == few == 3


# --- runs -----------------------------------------------------------------------------------


def test_run_is_queued_with_202_and_runs_after_commit(
    district_api, district_staff, django_capture_on_commit_callbacks
):
    household = f.make_household(f.VILLAGE_A, members=1)
    patient = f.next_id_number(birth=dt.date(1971, 2, 3))
    f.make_member(household, id_number=patient, name="李四", relation="spouse")
    stage_rows(
        "medical", [inpatient_row(patient, name="李四", out_of_pocket=18000, village=f.VILLAGE_A)]
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = district_api.post(
            "/api/screening-runs/", {"period": PERIOD, "rules": list(MEDICAL_RULES)}, format="json"
        )
    assert response.status_code == 202, response.json()
    assert len(callbacks) == 1
    body = response.json()
    assert body["status"] == "queued" and body["trigger"] == "api" and body["engine"] == "duckdb"
    assert body["rules"] == dict.fromkeys(MEDICAL_RULES, 1)
    assert response["Location"] == f"http://testserver/api/screening-runs/{body['id']}/"
    followed = district_api.get(response["Location"]).json()
    assert followed["status"] == "succeeded", followed["message"]
    assert followed["actor"] == district_staff.pk and followed["actor_name"] == "district-staff"
    assert followed["alerts_new"] == 2 and followed["households"] == 1
    assert set(followed["timings"]) >= {"compile", "snapshot", "engine", "alerts"}
    assert Alert.objects.filter(household=household).count() == 2


def test_run_with_defaults_takes_every_active_rule(
    district_api, django_capture_on_commit_callbacks
):
    stage_rows("medical", [], period=PERIOD)
    with django_capture_on_commit_callbacks(execute=False):
        response = district_api.post("/api/screening-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    run = ScreeningRun.objects.get(pk=response.json()["id"])
    assert run.period == PERIOD  # the latest staged period
    assert set(run.rules) == set(Rule.objects.filter(active=True).values_list("slug", flat=True))


def test_run_input_errors_are_chinese(district_api):
    unknown = district_api.post("/api/screening-runs/", {"rules": ["no-such-rule"]}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "规则不存在：no-such-rule"
    engine = district_api.post("/api/screening-runs/", {"engine": "oracle"}, format="json")
    assert engine.status_code == 400
    assert "engine" in engine.json()["extra"]["fields"]
    assert not ScreeningRun.objects.exists()


def test_only_district_staff_start_runs(cadre_api, township_api):
    for client in (cadre_api, township_api):
        response = client.post("/api/screening-runs/", {}, format="json")
        assert response.status_code == 403
        assert response.json()["message"] == "只有区县工作人员可以发起数据比对"
    assert not ScreeningRun.objects.exists()


def test_run_list_query_count_is_fixed(cadre_api, screened, district_staff):
    few, count = count_queries(cadre_api, "/api/screening-runs/")
    assert count == 1
    for _ in range(3):
        ScreeningRun.objects.create(
            engine="duckdb", period=PERIOD, trigger="api", actor=district_staff
        )
    many, count = count_queries(cadre_api, "/api/screening-runs/")
    assert count == 4
    assert many == few == 3


# --- alerts: who sees what -------------------------------------------------------------------


def alert_ids(client, **query) -> set[int]:
    response = client.get("/api/alerts/", {"page_size": 500, **query})
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_each_user_sees_the_alerts_of_their_area(cadre_api, township_api, district_api, screened):
    village_a = {a.pk for a in screened.alerts(f.VILLAGE_A)}
    village_b = {a.pk for a in screened.alerts(f.VILLAGE_B)}
    stranger = {a.pk for a in screened.alerts(f.VILLAGE_B, unregistered=True)}
    other = {a.pk for a in screened.alerts(f.VILLAGE_OTHER_TOWNSHIP)}
    assert len(village_a) == len(village_b) == len(stranger) == len(other) == 2
    assert alert_ids(cadre_api) == village_a
    assert alert_ids(township_api) == village_a | village_b | stranger
    assert alert_ids(district_api) == village_a | village_b | stranger | other


def test_another_areas_alert_is_a_404_for_every_action(cadre_api, screened):
    alert = screened.alerts(f.VILLAGE_B)[0]
    url = f"/api/alerts/{alert.pk}/"
    assert cadre_api.get(url).status_code == 404
    assert cadre_api.get(f"{url}evidence/").status_code == 404
    assert cadre_api.get(f"{url}assignees/").status_code == 404
    assert (
        cadre_api.post(f"{url}dismiss/", {"reason": "已核实无风险"}, format="json").status_code
        == 404
    )
    assert cadre_api.post(f"{url}assign/", {"assignee": 1}, format="json").status_code == 404
    assert cadre_api.post(f"{url}open-lead/", {}, format="json").status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_list_row_describes_the_alert(cadre_api, screened):
    household = screened.households[f.VILLAGE_A]
    rows = cadre_api.get("/api/alerts/", {"rule": "medical-out-of-pocket-12m"}).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert (
        row["rule"] == "medical-out-of-pocket-12m"
        and row["rule_name"] == "近12个月医疗自付费用较高"
    )
    assert (
        row["household"] == household.pk and row["household_number"] == household.household_number
    )
    assert row["person_name"] == "李四"
    assert row["division"] == f.VILLAGE_A and row["township_name"] == "火炉镇"
    assert row["division_name"].startswith("向前村")
    assert (row["value"], row["comparison"], row["comparison_display"], row["threshold"]) == (
        "18000.00",
        "ge",
        "大于等于",
        "11559.50",
    )
    assert (row["status"], row["status_display"], row["risk_type_display"]) == (
        "open",
        "待处理",
        "因病",
    )
    assert row["placed_by"] == "registry" and row["unregistered"] is False
    assert row["run"] == screened.run.pk and row["period"] == PERIOD
    assert "evidence" not in row


def test_unregistered_person_is_placed_by_the_feeds_address(township_api, screened):
    rows = township_api.get("/api/alerts/", {"unregistered": "true"}).json()["results"]
    assert {row["person_name"] for row in rows} == {screened.unregistered_name}
    assert {
        (row["household"], row["household_number"], row["division"], row["placed_by_display"])
        for row in rows
    } == {
        (None, None, f.VILLAGE_B, "部门数据地址"),
    }


# --- alerts: filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"rule": "inpatient-out-of-pocket-month"},
        {"risk_type": "illness"},
        {"risk_type": "housing"},
        {"severity": "medium"},
        {"status": "open"},
        {"status": "dismissed"},
        {"township": "500156104000"},
        {"village": f.VILLAGE_B},
        {"source": "medical"},
        {"source": "housing"},
        {"unregistered": "true"},
        {"unregistered": "false"},
        {"after_elimination": "false"},
        {"period": PERIOD},
        {"period": "2025-08"},
        {"rule": "medical-out-of-pocket-12m", "village": f.VILLAGE_A},
    ],
)
def test_alert_filters_are_the_pages_filters(district_api, district_staff, screened, query):
    expected = AlertFilterSet(query, queryset=alert_list(actor=district_staff)).qs
    assert alert_ids(district_api, **query) == {a.pk for a in expected}


def test_alert_filters_pick_what_they_name(district_api, screened):
    household = screened.households[f.VILLAGE_OTHER_TOWNSHIP]
    by_household = Alert.objects.filter(household=household)
    assert alert_ids(district_api, household=household.pk) == {a.pk for a in by_household}
    assert len(by_household) == 2
    assert len(alert_ids(district_api, run=screened.run.pk)) == 8
    assert alert_ids(district_api, run=screened.run.pk + 1000) == set()
    assert len(alert_ids(district_api, severity="high")) == 4
    assert len(alert_ids(district_api, township="500156104")) == 6
    assert alert_ids(district_api, source="housing") == set()


def test_unknown_filter_value_is_a_400(district_api):
    response = district_api.get("/api/alerts/", {"rule": "no-such-rule"})
    assert response.status_code == 400
    assert "rule" in response.json()["extra"]["fields"]


def test_alert_list_query_count_is_fixed(district_api, screened):
    few, count = count_queries(district_api, "/api/alerts/")
    assert count == 8
    screen_three_villages()
    many, count = count_queries(district_api, "/api/alerts/")
    assert count == 16
    # token, the user's divisions, the count and the page
    assert many == few == 4


# --- alerts: detail and evidence ------------------------------------------------------------


def test_detail_carries_the_stored_evidence(cadre_api, screened):
    alert = Alert.objects.get(division_id=f.VILLAGE_A, rule__slug="medical-out-of-pocket-12m")
    body = cadre_api.get(f"/api/alerts/{alert.pk}/").json()
    assert body["evidence"] == alert.evidence
    assert body["evidence"]["rows"] == [[screened.batch.pk, 2]]
    assert body["evidence"]["window"] == ["2024-10-01", "2025-09-30"]
    assert body["evidence"]["population"] == "poverty_exited"
    assert body["decided_by"] is None and body["resolution_note"] == ""
    # A household rule names no member; a person rule names the patient.
    assert (body["member"], body["member_name"]) == (None, None)
    per_person = Alert.objects.get(
        division_id=f.VILLAGE_A, rule__slug="inpatient-out-of-pocket-month"
    )
    body = cadre_api.get(f"/api/alerts/{per_person.pk}/").json()
    assert (body["member"], body["member_name"]) == (per_person.member_id, "李四")


def test_evidence_rows_are_read_from_the_staged_feed(cadre_api, screened):
    alert = Alert.objects.get(division_id=f.VILLAGE_A, rule__slug="medical-out-of-pocket-12m")
    body = cadre_api.get(f"/api/alerts/{alert.pk}/evidence/").json()
    assert (body["total"], body["shown"], body["truncated"]) == (1, 1, False)
    [batch] = body["batches"]
    assert (batch["batch"], batch["source"], batch["period"], batch["problem"]) == (
        screened.batch.pk,
        "medical",
        PERIOD,
        "",
    )
    assert "身份证号码" not in batch["headers"]
    assert batch["rows"][0]["row_number"] == 2
    cells = dict(zip(batch["headers"], batch["rows"][0]["cells"], strict=True))
    assert cells["姓名"] == "李四"
    assert cells["个人自付金额"].replace(",", "") == "18000.00"
    assert cells["就诊类别"] == "住院"
    assert cells["结算日期"] == "2025-09-03"


# --- alerts: triage -------------------------------------------------------------------------


def test_dismiss_needs_a_reason_and_is_audited(cadre_api, village_cadre, screened):
    alert = screened.alerts(f.VILLAGE_A)[0]
    url = f"/api/alerts/{alert.pk}/dismiss/"
    empty = cadre_api.post(url, {}, format="json")
    assert empty.status_code == 400 and "reason" in empty.json()["extra"]["fields"]
    short = cadre_api.post(url, {"reason": "无"}, format="json")
    assert short.status_code == 400
    assert short.json()["message"] == "请填写排除理由（至少 4 个字）"
    response = cadre_api.post(url, {"reason": "已报销，家庭收入稳定"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["resolution_note"], body["decided_by"]) == (
        "dismissed",
        "已报销，家庭收入稳定",
        village_cadre.pk,
    )
    assert body["decided_by_name"] == "村干部甲"
    event = AuditEvent.objects.get(target_type="screening.alert", target_id=str(alert.pk))
    # The household's 12-month alert rests on the same stay: one item, dismissed together.
    item = [
        alert.pk,
        *Alert.objects.filter(triage_group=alert.triage_group)
        .exclude(pk=alert.pk)
        .values_list("pk", flat=True),
    ]
    assert event.actor == village_cadre and event.extra["verb"] == "dismiss"
    assert event.extra.get("item", [alert.pk]) == item
    assert set(Alert.objects.filter(pk__in=item).values_list("status", flat=True)) == {"dismissed"}
    again = cadre_api.post(url, {"reason": "再次排除试试"}, format="json")
    assert again.status_code == 400
    assert again.json()["message"] == "该预警已处理（已排除），不能再排除"


def test_assign_to_the_villages_grid_member(township_api, township_staff, village_cadre, screened):
    alert = screened.alerts(f.VILLAGE_A)[0]
    url = f"/api/alerts/{alert.pk}/"
    assignees = township_api.get(f"{url}assignees/").json()
    # The village's cadre first, then the township staff themselves.
    assert [a["id"] for a in assignees] == [village_cadre.pk, township_staff.pk]
    assert assignees[0] == {"id": village_cadre.pk, "username": "cadre-a", "name": "村干部甲"}
    # An unknown id and a user who may not take it get the same answer.
    outsider = f.make_user("dept", Role.DEPARTMENT_OFFICER, [f.VILLAGE_A])
    for assignee in (999999, outsider.pk):
        refused = township_api.post(f"{url}assign/", {"assignee": assignee}, format="json")
        assert refused.status_code == 400
        assert refused.json()["extra"]["fields"]["assignee"] == [
            "只能指派给您管辖范围内可处理该预警的用户"
        ]
    response = township_api.post(
        f"{url}assign/", {"assignee": village_cadre.pk, "note": "请本周入户"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["assigned_to"], body["assigned_to_name"]) == (
        "assigned",
        village_cadre.pk,
        "村干部甲",
    )
    assert body["resolution_note"] == "请本周入户"


def test_a_grid_member_of_another_village_cannot_take_it(township_api, screened):
    other_cadre = f.make_user("cadre-b", divisions=[f.VILLAGE_B])
    alert = screened.alerts(f.VILLAGE_A)[0]
    response = township_api.post(
        f"/api/alerts/{alert.pk}/assign/", {"assignee": other_cadre.pk}, format="json"
    )
    assert response.status_code == 400
    assert "cadre-b" not in response.content.decode()
    assert response.json()["extra"]["fields"]["assignee"] == [
        "只能指派给您管辖范围内可处理该预警的用户"
    ]


def test_open_lead(cadre_api, screened):
    alert = screened.alerts(f.VILLAGE_A)[0]
    response = cadre_api.post(
        f"/api/alerts/{alert.pk}/open-lead/", {"note": "转入户核查"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "lead_opened"
    assert response.json()["status_display"] == "已转为线索"
    dismissed = cadre_api.post(
        f"/api/alerts/{alert.pk}/dismiss/", {"reason": "已核实无风险"}, format="json"
    )
    assert dismissed.status_code == 400


def test_department_officers_cannot_triage(api_client_for, department_officer, screened):
    client = api_client_for(department_officer)
    alert = screened.alerts(f.VILLAGE_A)[0]
    # The medical insurance bureau sees the alerts its feed raised ...
    assert alert.pk in alert_ids(client)
    # ... but triage is the area's work.
    response = client.post(
        f"/api/alerts/{alert.pk}/dismiss/", {"reason": "已核实无风险"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能处理预警"


# --- policy values --------------------------------------------------------------------------


def test_policy_values_are_readable_by_every_signed_in_user(cadre_api):
    body = cadre_api.get(
        "/api/policy-values/", {"parameter": "rural_disposable_income", "year": 2024}
    ).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert (row["parameter"], row["year"], row["value"], row["division"]) == (
        "rural_disposable_income",
        2024,
        "23119.0000",
        None,
    )
    assert row["parameter_label"] == "农村居民人均可支配收入"
    assert row["unit"] == "元/人·年"
    assert row["source"].startswith("国家统计局")
    assert APIClient().get("/api/policy-values/").status_code == 401


def test_policy_value_list_query_count_is_fixed(cadre_api, district_admin):
    few, count = count_queries(cadre_api, "/api/policy-values/")
    for year in (2021, 2022, 2023):
        policy_value_create(
            actor=district_admin,
            parameter="rural_disposable_income",
            division=Division.objects.get(code=f.COUNTY_WULONG),
            year=year,
            value=18000 + year,
        )
    many, more = count_queries(cadre_api, "/api/policy-values/")
    assert more == count + 3
    # token, the count and the page (divisions and editors joined in)
    assert many == few == 3


def test_admin_sets_a_county_value_which_is_audited(admin_api, district_admin):
    payload = {
        "parameter": "rural_disposable_income",
        "division": f.COUNTY_WULONG,
        "year": 2025,
        "value": "21500",
        "source": "武隆区统计公报",
    }
    response = admin_api.post("/api/policy-values/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["division"], body["division_name"], body["year"], body["value"]) == (
        f.COUNTY_WULONG,
        "武隆区",
        2025,
        "21500.0000",
    )
    assert body["updated_by"] == district_admin.pk
    row = PolicyValue.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(
        action="create", target_type="policy.policyvalue", target_id=str(row.pk)
    ).exists()
    changed = admin_api.patch(f"/api/policy-values/{row.pk}/", {"value": "21600.5"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["value"] == "21600.5000"
    assert changed.json()["source"] == "武隆区统计公报"  # kept
    row.refresh_from_db()
    assert (row.value, row.division_id, row.year) == (Decimal("21600.5"), f.COUNTY_WULONG, 2025)
    assert admin_api.delete(f"/api/policy-values/{row.pk}/").status_code == 204
    assert not PolicyValue.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(
        action="delete", target_type="policy.policyvalue", target_id=str(row.pk)
    ).exists()


def test_policy_value_problems_are_named_per_field(admin_api):
    clash = {"parameter": "rural_disposable_income", "year": 2024, "value": "1"}
    response = admin_api.post("/api/policy-values/", clash, format="json")
    assert response.status_code == 400
    assert (
        response.json()["extra"]["fields"]["__all__"]
        == "“农村居民人均可支配收入”在全国 2024 年已有数值，请修改那一条"
    )
    village = {"parameter": "monitoring_line", "division": f.VILLAGE_A, "year": 2026, "value": "-5"}
    fields = admin_api.post("/api/policy-values/", village, format="json").json()["extra"]["fields"]
    assert set(fields) == {"division", "value"}
    assert fields["value"] == "数值不能为负数"
    unknown = admin_api.post(
        "/api/policy-values/", {"parameter": "gdp", "value": "1"}, format="json"
    )
    assert unknown.status_code == 400 and "parameter" in unknown.json()["extra"]["fields"]


@pytest.mark.parametrize("client_name", ["district_api", "cadre_api"])
def test_only_district_admins_change_policy_values(request, client_name):
    client = request.getfixturevalue(client_name)
    row = PolicyValue.objects.get(parameter="screening_day")
    created = client.post(
        "/api/policy-values/",
        {"parameter": "screening_day", "year": None, "value": "8"},
        format="json",
    )
    assert created.status_code == 403
    assert created.json()["message"] == "只有区县管理员可以修改政策参数"
    assert (
        client.patch(f"/api/policy-values/{row.pk}/", {"value": "9"}, format="json").status_code
        == 403
    )
    assert client.delete(f"/api/policy-values/{row.pk}/").status_code == 403
    row.refresh_from_db()
    assert row.value == 6


# --- feed sources ---------------------------------------------------------------------------


def test_feed_sources_are_listed_with_their_columns(cadre_api):
    body = cadre_api.get("/api/feed-sources/").json()
    slugs = [row["slug"] for row in body["results"]]
    assert body["count"] == 10
    assert "medical" in slugs and "water" in slugs
    medical = cadre_api.get("/api/feed-sources/medical/").json()
    assert (medical["department"], medical["department_display"], medical["kind_display"]) == (
        "medical_insurance",
        "医保局",
        "医疗费用结算",
    )
    by_field = {c["field"]: c for c in medical["columns"]}
    assert by_field["out_of_pocket"]["header"] == "个人自付金额"
    assert by_field["visit_type"]["choices"]["住院"] == "inpatient"
    assert cadre_api.get("/api/feed-sources/nothing/").status_code == 404


def test_department_officers_see_their_departments_sources(api_client_for, department_officer):
    client = api_client_for(department_officer)
    assert [row["slug"] for row in client.get("/api/feed-sources/").json()["results"]] == [
        "medical"
    ]
    assert client.get("/api/feed-sources/housing/").status_code == 404


def test_admin_renames_a_source_and_adds_a_header_alias(admin_api, district_admin):
    columns = FeedSource.objects.get(slug="medical").columns
    for column in columns:
        if column["field"] == "out_of_pocket":
            column["aliases"] = [*column.get("aliases", []), "个人现金支付"]
    response = admin_api.patch(
        "/api/feed-sources/medical/", {"name": "医保结算明细", "columns": columns}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "医保结算明细" and body["active"] is True
    aliases = next(c["aliases"] for c in body["columns"] if c["field"] == "out_of_pocket")
    assert "个人现金支付" in aliases
    assert AuditEvent.objects.filter(
        action="update", target_type="screening.feedsource", actor=district_admin
    ).exists()


def test_a_column_a_rule_reads_cannot_be_removed(admin_api):
    columns = [
        c for c in FeedSource.objects.get(slug="medical").columns if c["field"] != "out_of_pocket"
    ]
    response = admin_api.patch("/api/feed-sources/medical/", {"columns": columns}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("数据源未保存：")
    assert any("近12个月医疗自付费用较高" in error for error in body["extra"]["errors"])
    assert any(
        c["field"] == "out_of_pocket" for c in FeedSource.objects.get(slug="medical").columns
    )


def test_only_district_admins_edit_sources(district_api):
    response = district_api.patch("/api/feed-sources/medical/", {"active": False}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "只有区县管理员可以修改数据源"
    assert FeedSource.objects.get(slug="medical").active is True


def test_source_template_downloads(district_api):
    csv_file = district_api.get("/api/feed-sources/medical/template/", {"file_type": "csv"})
    assert csv_file.status_code == 200
    assert "attachment" in csv_file["Content-Disposition"]
    header = b"".join(csv_file.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert header.split(",")[:3] == ["身份证号码", "姓名", "结算日期"]
    xlsx = district_api.get("/api/feed-sources/medical/template/")
    assert xlsx.status_code == 200
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"
    wrong = district_api.get("/api/feed-sources/medical/template/", {"file_type": "pdf"})
    assert wrong.status_code == 400
    assert wrong.json()["extra"]["fields"]["file_type"] == ["模板格式只能是 xlsx 或 csv"]


# --- feed batches: upload -------------------------------------------------------------------

MEDICAL_HEADER = (
    "身份证号码,姓名,结算日期,就诊类别,医疗总费用,报销金额,个人自付金额,主要诊断,所在村（社区）"
)


def medical_csv(
    rows: list[str], *, name: str = "医保结算-2025年9月.csv", encoding: str = "gb18030"
):
    content = "\r\n".join([MEDICAL_HEADER, *rows]).encode(encoding)
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_upload_is_queued_with_202_then_staged(
    district_api, district_staff, django_capture_on_commit_callbacks
):
    household = f.make_household(f.VILLAGE_A, members=1)
    patient = f.next_id_number(birth=dt.date(1972, 4, 5))
    f.make_member(household, id_number=patient, name="李四", relation="spouse")
    bad_id = patient[:-1] + ("0" if patient[-1] != "0" else "1")
    upload = medical_csv(
        [
            f"{patient},李四,2025-09-03,住院,36000,18000,18000,脑梗死,火炉镇向前村",
            f"{bad_id},赵六,2025-09-04,住院,1000,500,500,骨折,火炉镇向前村",
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = district_api.post(
            "/api/feed-batches/",
            {"source": "medical", "period": PERIOD, "file": upload},
            format="multipart",
        )
        assert response.status_code == 202, response.json()
        body = response.json()
        assert (body["source"], body["period"], body["status"]) == ("medical", PERIOD, "queued")
        assert body["file_name"] == "医保结算-2025年9月.csv"
        assert body["actor"] == district_staff.pk
        assert response["Location"] == f"http://testserver/api/feed-batches/{body['id']}/"
    batch = district_api.get(response["Location"]).json()
    assert batch["status"] == "staged", batch["message"]
    assert (batch["rows_read"], batch["rows_accepted"], batch["rows_rejected"]) == (2, 1, 1)
    assert batch["progress_percent"] == 100
    assert batch["errors"][0]["row"] == 3 and batch["errors"][0]["column"] == "身份证号码"
    assert batch["has_rejects"] is True
    # The rejects file shows the bad number masked, never in full.
    rejects = district_api.get(f"/api/feed-batches/{batch['id']}/rejects/")
    assert rejects.status_code == 200
    assert rejects["Content-Type"] == "text/csv"
    text = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert bad_id not in text and bad_id[:6] in text
    # The staged rows raise alerts through a run started over the API.
    with django_capture_on_commit_callbacks(execute=True):
        run = district_api.post(
            "/api/screening-runs/",
            {"period": PERIOD, "rules": ["medical-out-of-pocket-12m"]},
            format="json",
        )
    assert run.status_code == 202
    alerts = district_api.get("/api/alerts/", {"household": household.pk}).json()["results"]
    assert [a["rule"] for a in alerts] == ["medical-out-of-pocket-12m"]
    evidence = district_api.get(f"/api/alerts/{alerts[0]['id']}/evidence/").json()
    assert evidence["batches"][0]["batch"] == batch["id"]


def test_the_same_file_is_not_staged_twice(district_api, django_capture_on_commit_callbacks):
    rows = [f"{f.next_id_number()},李四,2025-09-03,住院,36000,18000,18000,脑梗死,{f.VILLAGE_A}"]
    with django_capture_on_commit_callbacks(execute=True):
        first = district_api.post(
            "/api/feed-batches/",
            {"source": "medical", "period": PERIOD, "file": medical_csv(rows)},
            format="multipart",
        )
    assert first.status_code == 202
    again = district_api.post(
        "/api/feed-batches/",
        {"source": "medical", "period": PERIOD, "file": medical_csv(rows, name="重发.csv")},
        format="multipart",
    )
    assert again.status_code == 400
    body = again.json()
    assert body["code"] == "application_error"
    assert f"（批次 #{first.json()['id']}，期别 {PERIOD}），不再重复导入" in body["message"]
    assert FeedBatch.objects.count() == 1


def test_upload_input_is_checked_before_anything_is_recorded(district_api):
    def post(**fields):
        data = {"source": "medical", "period": PERIOD, "file": medical_csv([]), **fields}
        return district_api.post("/api/feed-batches/", data, format="multipart")

    missing = district_api.post("/api/feed-batches/", {}, format="multipart")
    assert missing.status_code == 400
    assert set(missing.json()["extra"]["fields"]) == {"source", "period", "file"}
    assert "source" in post(source="nothing").json()["extra"]["fields"]
    assert (
        post(period="2025/9").json()["message"] == "期别“2025/9”格式不对，应为 年-月，例如 2026-10"
    )
    text = SimpleUploadedFile("notes.txt", b"x")
    assert post(file=text).json()["message"] == "不支持的文件类型“.txt”，请使用 .xlsx、.xls 或 .csv"
    json_body = district_api.post("/api/feed-batches/", {"source": "medical"}, format="json")
    assert json_body.status_code == 415
    assert not FeedBatch.objects.exists()


def test_who_may_upload(api_client_for, cadre_api, department_officer):
    cadre = cadre_api.post(
        "/api/feed-batches/",
        {"source": "medical", "period": PERIOD, "file": medical_csv([])},
        format="multipart",
    )
    assert cadre.status_code == 403
    officer = api_client_for(department_officer)
    other_department = officer.post(
        "/api/feed-batches/",
        {"source": "housing", "period": PERIOD, "file": medical_csv([])},
        format="multipart",
    )
    assert other_department.status_code == 400
    assert "source" in other_department.json()["extra"]["fields"]
    assert not FeedBatch.objects.exists()


# --- feed batches: reading and deleting -----------------------------------------------------


def test_batches_are_the_districts_and_the_departments(
    api_client_for, cadre_api, district_api, department_officer
):
    medical = stage_rows("medical", [])
    housing = stage_rows("housing", [])
    assert {row["id"] for row in district_api.get("/api/feed-batches/").json()["results"]} == {
        medical.pk,
        housing.pk,
    }
    officer = api_client_for(department_officer)
    assert [row["id"] for row in officer.get("/api/feed-batches/").json()["results"]] == [
        medical.pk
    ]
    assert officer.get(f"/api/feed-batches/{housing.pk}/").status_code == 404
    assert cadre_api.get("/api/feed-batches/").json()["count"] == 0
    assert cadre_api.get(f"/api/feed-batches/{medical.pk}/").status_code == 404


def test_batch_filters(district_api):
    medical = stage_rows("medical", [])
    stage_rows("housing", [], period="2025-08")

    def ids(**query):
        return [
            row["id"] for row in district_api.get("/api/feed-batches/", query).json()["results"]
        ]

    assert ids(source="medical") == [medical.pk]
    assert ids(period=PERIOD) == [medical.pk]
    assert ids(department="medical_insurance") == [medical.pk]
    assert ids(status="failed") == []


def test_batch_without_rejects_has_no_download(district_api):
    batch = stage_rows("medical", [])
    assert district_api.get(f"/api/feed-batches/{batch.pk}/").json()["has_rejects"] is False
    assert district_api.get(f"/api/feed-batches/{batch.pk}/rejects/").status_code == 404


def test_deleting_a_batch_removes_its_staged_file(
    district_api, cadre_api, django_capture_on_commit_callbacks
):
    batch = stage_rows("medical", [])
    path = Path(batch.parquet_path)
    assert cadre_api.delete(f"/api/feed-batches/{batch.pk}/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = district_api.delete(f"/api/feed-batches/{batch.pk}/")
    assert response.status_code == 204
    assert not FeedBatch.objects.filter(pk=batch.pk).exists()
    assert not path.exists()
    assert AuditEvent.objects.filter(action="delete", target_type="screening.feedbatch").exists()


def test_batch_list_query_count_is_fixed(district_api, district_staff):
    stage_rows("medical", [])
    few, count = count_queries(district_api, "/api/feed-batches/")
    for n in range(4):
        batch = stage_rows("medical", [], period=f"2025-0{n + 1}")
        FeedBatch.objects.filter(pk=batch.pk).update(actor=district_staff)
    many, count = count_queries(district_api, "/api/feed-batches/")
    assert count == 5
    # token, the count and the page (source and importer joined in)
    assert many == few == 3


# --- schema ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    """The schema as ``shouwang spectacular --validate --fail-on-warn`` writes it."""
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    with django_db_blocker.unblock():
        call_command(
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--format",
            "openapi-json",
            "--file",
            str(path),
        )
    return json.loads(path.read_text())


SCREENING_PREFIXES = (
    "/api/feed-",
    "/api/rules/",
    "/api/screening-runs/",
    "/api/alerts/",
    "/api/policy-values/",
)


def test_every_screening_operation_has_a_chinese_summary_and_error_bodies(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith(SCREENING_PREFIXES)
        for method, operation in item.items()
        if method != "parameters"
    ]
    assert len(operations) == 33
    for path, method, operation in operations:
        assert re.search(r"[\u4e00-\u9fff]", operation.get("summary", "")), (path, method)
        for code in ("400", "401", "403"):
            assert operation["responses"][code]["content"]["application/json"]["schema"][
                "$ref"
            ].endswith("/Error")


def test_alert_filters_and_shapes_are_documented(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/alerts/"]["get"]["parameters"]}
    assert set(AlertFilterSet.base_filters) | {"page", "page_size"} == parameters
    components = schema["components"]["schemas"]
    assert "evidence" in components["AlertDetail"]["properties"]
    assert "evidence" not in components["Alert"]["properties"]
    evidence = components["AlertEvidence"]["properties"]
    assert {
        "rows",
        "row_count",
        "window",
        "threshold_rule",
        "population",
        "aggregate",
        "feed",
    } <= set(evidence)
    assert components["RuleSpec"]["properties"]["threshold"]["allOf"][0]["$ref"].endswith(
        "/Threshold"
    )


def test_queued_work_answers_202_and_uploads_are_multipart(schema):
    upload = schema["paths"]["/api/feed-batches/"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    assert upload["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/FeedBatch"
    )
    run = schema["paths"]["/api/screening-runs/"]["post"]
    assert run["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ScreeningRun"
    )
    rejects = schema["paths"]["/api/feed-batches/{id}/rejects/"]["get"]["responses"]["200"]
    assert list(rejects["content"]) == ["text/csv"]
