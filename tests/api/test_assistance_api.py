"""Assistance through the API: the catalogue and rules (administrators write, the others read),
plans from the rules' proposals, and plan measures' edits and delivery, with the same refusals
as the services (another area's record is a 404, the wrong role a 403, a refused move a 400)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure, RecommendationRule
from shouwang.assistance.services import plan_accept
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ILLNESS_RULE = "因病：患病成员医疗救助"


@pytest.fixture
def admin_api(api_client_for, district_admin):
    return api_client_for(district_admin)


@pytest.fixture
def township_api(api_client_for, township_staff):
    return api_client_for(township_staff)


@pytest.fixture
def medical_api(api_client_for, department_officer):
    return api_client_for(department_officer)


def _monitored(village: str = f.VILLAGE_A, **data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    return f.make_household(village, **{**fields, **data})


def _measure(name: str) -> Measure:
    return Measure.objects.get(name=name)


def _planned(household, name: str = "医疗救助", **item) -> PlanMeasure:
    """A plan measure put in place by the services, as a cadre's earlier work left it."""
    plan = plan_accept(actor=None, household=household, items=[{"measure": _measure(name), **item}])
    return plan.measures.get(measure__name=name)


# -- catalogue ---------------------------------------------------------------------------------


def test_everyone_who_plans_or_delivers_reads_the_catalogue(cadre_api, medical_api):
    groups = cadre_api.get("/api/measure-groups/", {"page_size": 100})
    assert groups.status_code == 200
    health = next(g for g in groups.json()["results"] if g["code"] == "health")
    assert health["name"] == "健康帮扶"
    assert "因病" in health["covers_risk_types_display"]
    assert "医疗救助" in {m["name"] for m in health["measures"]}

    measures = medical_api.get("/api/measures/", {"department": "medical_insurance"})
    assert measures.status_code == 200
    names = {m["name"] for m in measures.json()["results"]}
    assert names == set(
        Measure.objects.filter(department="medical_insurance").values_list("name", flat=True)
    )
    detail = medical_api.get(f"/api/measures/{_measure('医疗救助').pk}/").json()
    assert detail["group_name"] == "健康帮扶" and detail["department_display"] == "医保局"

    rules = medical_api.get("/api/recommendation-rules/", {"active": "true"})
    assert rules.status_code == 200
    assert ILLNESS_RULE in {r["name"] for r in rules.json()["results"]}


def test_a_user_without_a_role_may_not_read_the_catalogue(api_client_for):
    nobody = f.make_user("no-role", role="", divisions=[f.VILLAGE_A])
    response = api_client_for(nobody).get("/api/measures/")
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能查看帮扶措施目录"


def test_administrators_maintain_the_catalogue(admin_api, district_api, cadre_api):
    body = {"code": "digital", "name": "数字帮扶", "covers_risk_types": ["other"]}
    refused = district_api.post("/api/measure-groups/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "只有区县管理员可以维护帮扶措施目录"

    created = admin_api.post("/api/measure-groups/", body, format="json")
    assert created.status_code == 201, created.json()
    group = created.json()
    assert group["covers_risk_types"] == ["other"] and group["measures"] == []
    bad_risk = admin_api.patch(
        f"/api/measure-groups/{group['id']}/", {"covers_risk_types": ["x"]}, format="json"
    )
    assert bad_risk.status_code == 400 and "covers_risk_types" in bad_risk.json()["extra"]["fields"]
    renamed = admin_api.patch(
        f"/api/measure-groups/{group['id']}/", {"sort_order": 99}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["sort_order"] == 99
    assert (
        cadre_api.patch(
            f"/api/measure-groups/{group['id']}/", {"sort_order": 1}, format="json"
        ).status_code
        == 403
    )

    measure_body = {"group": group["id"], "name": "电商培训", "department": "agriculture"}
    assert cadre_api.post("/api/measures/", measure_body, format="json").status_code == 403
    created = admin_api.post(
        "/api/measures/", {**measure_body, "development": True, "unit": "人次"}, format="json"
    )
    assert created.status_code == 201, created.json()
    measure = created.json()
    assert measure["active"] is True and measure["group_name"] == "数字帮扶"
    duplicate = admin_api.post("/api/measures/", measure_body, format="json")
    assert duplicate.status_code == 400 and "同名措施" in duplicate.json()["message"]
    both = admin_api.patch(f"/api/measures/{measure['id']}/", {"backstop": True}, format="json")
    assert both.status_code == 400
    assert both.json()["message"] == "一项措施不能既是开发式帮扶又是兜底保障"

    # No delete: a measure plans refer to is retired instead.
    assert admin_api.delete(f"/api/measures/{measure['id']}/").status_code == 405
    retired = admin_api.patch(f"/api/measures/{measure['id']}/", {"active": False}, format="json")
    assert retired.status_code == 200 and retired.json()["active"] is False
    inactive = cadre_api.get("/api/measures/", {"active": "false"}).json()["results"]
    assert measure["id"] in {m["id"] for m in inactive}
    assert (
        AuditEvent.objects.filter(
            target_type="assistance.measure",
            target_id=str(measure["id"]),
            actor__role=Role.DISTRICT_ADMIN,
        ).count()
        == 2
    )
    assert MeasureGroup.objects.filter(code="digital").exists()


def test_administrators_maintain_the_rules(admin_api, cadre_api, medical_api):
    body = {
        "name": "因学：高中生教育资助",
        "risk_types": ["schooling"],
        "member_school_statuses": ["senior"],
        "per_member": True,
        "measure": _measure("学生资助").pk,
    }
    assert cadre_api.post("/api/recommendation-rules/", body, format="json").status_code == 403
    created = admin_api.post("/api/recommendation-rules/", body, format="json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["household_labour"] == "any" and rule["priority"] == 100
    assert rule["risk_types_display"] == ["因学"] and rule["measure_name"] == "学生资助"
    assert medical_api.get(f"/api/recommendation-rules/{rule['id']}/").status_code == 200

    no_condition = admin_api.patch(
        f"/api/recommendation-rules/{rule['id']}/",
        {"member_school_statuses": []},
        format="json",
    )
    assert no_condition.status_code == 400
    assert no_condition.json()["message"] == "按成员逐人推荐时须至少设置一项成员条件"
    ages = admin_api.patch(
        f"/api/recommendation-rules/{rule['id']}/",
        {"member_age_min": 20, "member_age_max": 10},
        format="json",
    )
    assert ages.status_code == 400 and ages.json()["message"] == "成员年龄下限不能大于上限"
    unknown = admin_api.patch(
        f"/api/recommendation-rules/{rule['id']}/", {"risk_types": ["flood"]}, format="json"
    )
    assert unknown.status_code == 400 and "risk_types" in unknown.json()["extra"]["fields"]

    # PUT replaces: conditions left out go back to "any".
    replaced = admin_api.put(
        f"/api/recommendation-rules/{rule['id']}/",
        {"name": "教育资助", "measure": _measure("学生资助").pk, "priority": 5},
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["risk_types"] == [] and replaced.json()["per_member"] is False
    assert cadre_api.delete(f"/api/recommendation-rules/{rule['id']}/").status_code == 403
    assert admin_api.delete(f"/api/recommendation-rules/{rule['id']}/").status_code == 204
    assert not RecommendationRule.objects.filter(pk=rule["id"]).exists()
    assert AuditEvent.objects.filter(
        target_type="assistance.recommendationrule", target_id=str(rule["id"]), action="delete"
    ).exists()


# -- plans -------------------------------------------------------------------------------------


def test_accepting_the_proposals_makes_the_plan(cadre_api):
    household = _monitored()
    patient = f.make_member(
        household,
        name="病人",
        relation=rc.Relation.FATHER,
        health_status=rc.HealthStatus.SERIOUS_ILLNESS,
    )
    response = cadre_api.get("/api/plans/proposals/", {"household": household.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["household"] == household.pk and body["problem"] == ""
    illness = next(p for p in body["proposals"] if p["rule_name"] == ILLNESS_RULE)
    assert illness["measure_name"] == "医疗救助" and illness["member"] == patient.pk
    assert "病人" in illness["reason"] and illness["department"] == "medical_insurance"

    items = [
        {key: p[key] for key in ("measure", "member", "rule", "reason")} for p in body["proposals"]
    ]
    items[0]["responsible_person"] = "王医生"
    accepted = cadre_api.post(
        "/api/plans/accept/",
        {"household": household.pk, "items": items, "note": "村两委研究确定"},
        format="json",
    )
    assert accepted.status_code == 201, accepted.json()
    plan = accepted.json()
    assert plan["household"] == household.pk and plan["note"] == "村两委研究确定"
    assert plan["accepted_by_name"] == "村干部甲"
    assert plan["measure_count"] == len(items) == len(plan["measures"])
    first = next(m for m in plan["measures"] if m["rule_name"] == ILLNESS_RULE)
    assert first["source"] == "recommended" and first["member_name"] == "病人"
    assert first["planned_end"] == (TODAY + dt.timedelta(days=90)).isoformat()
    assert first["can_edit"] is True and first["can_progress"] is True
    assert {m["responsible_person"] for m in plan["measures"]} >= {"王医生"}

    after = cadre_api.get("/api/plans/proposals/", {"household": household.pk}).json()
    assert after["proposals"] == []
    again = cadre_api.post(
        "/api/plans/accept/", {"household": household.pk, "items": items[:1]}, format="json"
    )
    assert again.status_code == 400 and again.json()["message"].startswith("计划中已有措施")
    # A measure the cadre adds besides the proposals joins the same plan.
    added = cadre_api.post(
        "/api/plans/accept/",
        {"household": household.pk, "items": [{"measure": _measure("临时救助").pk}]},
        format="json",
    )
    assert added.status_code == 201
    assert added.json()["id"] == plan["id"] and added.json()["measure_count"] == len(items) + 1
    assert (
        next(m for m in added.json()["measures"] if m["measure_name"] == "临时救助")["source"]
        == "manual"
    )
    assert cadre_api.get(f"/api/plans/{plan['id']}/").json()["measure_count"] == len(items) + 1


def test_plan_refusals(cadre_api, medical_api, api_client_for):
    ordinary = f.make_household(household_type=rc.HouseholdType.ORDINARY)
    proposals = cadre_api.get("/api/plans/proposals/", {"household": ordinary.pk}).json()
    assert "尚未纳入监测" in proposals["problem"]
    body = {"household": ordinary.pk, "items": [{"measure": _measure("医疗救助").pk}]}
    refused = cadre_api.post("/api/plans/accept/", body, format="json")
    assert refused.status_code == 400 and "尚未纳入监测" in refused.json()["message"]

    household = _monitored()
    empty = cadre_api.post(
        "/api/plans/accept/", {"household": household.pk, "items": []}, format="json"
    )
    assert empty.status_code == 400 and empty.json()["message"] == "请至少选择一项帮扶措施"
    assert cadre_api.get("/api/plans/proposals/").status_code == 400

    elsewhere = _monitored(f.VILLAGE_B)
    assert cadre_api.get("/api/plans/proposals/", {"household": elsewhere.pk}).status_code == 404
    body = {"household": elsewhere.pk, "items": [{"measure": _measure("医疗救助").pk}]}
    assert cadre_api.post("/api/plans/accept/", body, format="json").status_code == 404

    # A member of another area does not exist for this cadre: no name leaks in the answer.
    stranger = elsewhere.members.first()
    with_stranger = cadre_api.post(
        "/api/plans/accept/",
        {
            "household": household.pk,
            "items": [{"measure": _measure("医疗救助").pk, "member": stranger.pk}],
        },
        format="json",
    )
    assert with_stranger.status_code == 400 and stranger.name not in str(with_stranger.json())
    neighbour = f.make_household(f.VILLAGE_A).members.first()
    not_theirs = cadre_api.post(
        "/api/plans/accept/",
        {
            "household": household.pk,
            "items": [{"measure": _measure("医疗救助").pk, "member": neighbour.pk}],
        },
        format="json",
    )
    assert not_theirs.status_code == 400 and "不是该户成员" in not_theirs.json()["message"]

    retired = _measure("临时救助")
    retired.active = False
    retired.save()
    inactive = cadre_api.post(
        "/api/plans/accept/",
        {"household": household.pk, "items": [{"measure": retired.pk}]},
        format="json",
    )
    assert inactive.status_code == 400 and "已停用" in inactive.json()["message"]

    officer = medical_api.get("/api/plans/proposals/", {"household": household.pk})
    assert officer.status_code == 403 and officer.json()["message"] == "您的角色不能制定帮扶计划"
    body = {"household": household.pk, "items": [{"measure": _measure("医疗救助").pk}]}
    assert medical_api.post("/api/plans/accept/", body, format="json").status_code == 403
    assert not PlanMeasure.objects.exists()


def test_plans_are_listed_by_area_and_department(cadre_api, township_api, medical_api):
    here = _monitored()
    _planned(here)
    _planned(here, "低保")
    there = _monitored(f.VILLAGE_B)
    _planned(there, "低保")
    far = _monitored(f.VILLAGE_OTHER_TOWNSHIP)
    _planned(far)

    def households(api, **params):
        response = api.get("/api/plans/", params)
        assert response.status_code == 200
        return {p["household"]: p for p in response.json()["results"]}

    assert set(households(cadre_api)) == {here.pk}
    assert set(households(township_api)) == {here.pk, there.pk}
    assert set(households(township_api, village=f.VILLAGE_B)) == {there.pk}
    # 医保局 sees the plans holding its measures, district-wide, and counts only those.
    seen = households(medical_api)
    assert set(seen) == {here.pk, far.pk}
    assert seen[here.pk]["measure_count"] == 1
    plan_id = seen[here.pk]["id"]
    detail = medical_api.get(f"/api/plans/{plan_id}/").json()
    assert [m["measure_name"] for m in detail["measures"]] == ["医疗救助"]
    assert detail["measures"][0]["can_edit"] is False
    assert detail["measures"][0]["can_progress"] is True
    assert len(cadre_api.get(f"/api/plans/{plan_id}/").json()["measures"]) == 2

    there_plan = township_api.get("/api/plans/", {"household": there.pk}).json()["results"][0]
    assert cadre_api.get(f"/api/plans/{there_plan['id']}/").status_code == 404
    assert medical_api.get(f"/api/plans/{there_plan['id']}/").status_code == 404


# -- plan measures -----------------------------------------------------------------------------


def test_plan_measures_are_listed_by_area_department_and_filters(
    cadre_api, township_api, medical_api
):
    here = _monitored()
    medical = _planned(
        here,
        planned_start=TODAY - dt.timedelta(days=30),
        planned_end=TODAY - dt.timedelta(days=1),
    )
    allowance = _planned(here, "低保")
    there = _planned(_monitored(f.VILLAGE_B), "技能培训")
    far = _planned(_monitored(f.VILLAGE_OTHER_TOWNSHIP))

    def ids(api, **params):
        response = api.get("/api/plan-measures/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(cadre_api) == {medical.pk, allowance.pk}
    assert ids(township_api) == {medical.pk, allowance.pk, there.pk}
    assert ids(medical_api) == {medical.pk, far.pk}
    assert ids(township_api, village=f.VILLAGE_B) == {there.pk}
    assert ids(medical_api, township=f.TOWNSHIP_HUOLU) == {medical.pk}
    assert ids(township_api, department="civil_affairs") == {allowance.pk}
    employment = MeasureGroup.objects.get(code="employment")
    assert ids(township_api, group=employment.pk) == {there.pk}
    assert ids(township_api, overdue="true") == {medical.pk}
    assert ids(township_api, status="planned") == {medical.pk, allowance.pk, there.pk}
    assert township_api.get("/api/plan-measures/", {"status": "done"}).status_code == 400

    row = cadre_api.get(f"/api/plan-measures/{medical.pk}/").json()
    assert row["overdue"] is True and row["household"] == here.pk
    assert row["village_name"].startswith("向前村") and row["township_name"] == "火炉镇"
    assert row["status_display"] == "计划中" and row["unit"] == "元"
    assert cadre_api.get(f"/api/plan-measures/{there.pk}/").status_code == 404
    assert medical_api.get(f"/api/plan-measures/{allowance.pk}/").status_code == 404


def test_planners_edit_plan_measures(cadre_api, medical_api, api_client_for):
    pm = _planned(_monitored())
    url = f"/api/plan-measures/{pm.pk}/"
    edited = cadre_api.patch(
        url,
        {
            "responsible_person": "王医生",
            "planned_end": (TODAY + dt.timedelta(days=30)).isoformat(),
            "amount": "3200.50",
        },
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["responsible_person"] == "王医生"
    assert edited.json()["amount"] == "3200.50"
    assert edited.json()["updated_by_name"] == "村干部甲"

    backwards = cadre_api.patch(
        url, {"planned_end": (TODAY - dt.timedelta(days=400)).isoformat()}, format="json"
    )
    assert backwards.status_code == 400
    assert "计划完成日期不能早于计划开始日期" in backwards.json()["message"]
    negative = cadre_api.patch(url, {"amount": "-1"}, format="json")
    assert negative.status_code == 400 and "amount" in negative.json()["extra"]["fields"]

    officer = medical_api.patch(url, {"responsible_person": "x"}, format="json")
    assert officer.status_code == 403 and officer.json()["message"] == "您的角色不能制定帮扶计划"
    cadre_b = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    assert (
        api_client_for(cadre_b).patch(url, {"responsible_person": "x"}, format="json").status_code
        == 404
    )

    cadre_api.post(f"{url}progress/", {"status": "delivered"}, format="json")
    final = cadre_api.patch(url, {"responsible_person": "李医生"}, format="json")
    assert final.status_code == 400 and final.json()["message"] == "措施已落实，不能再修改"
    pm.refresh_from_db()
    assert pm.responsible_person == "王医生"


def test_delivery_moves(medical_api, cadre_api, api_client_for):
    pm = _planned(_monitored())
    url = f"/api/plan-measures/{pm.pk}/progress/"

    started = medical_api.post(url, {"status": "in_progress"}, format="json")
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "in_progress"
    assert started.json()["actual_start"] == TODAY.isoformat()

    future = medical_api.post(
        url,
        {"status": "delivered", "actual_end": (TODAY + dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert future.status_code == 400 and future.json()["message"] == "实际日期不能晚于今天"
    back = medical_api.post(url, {"status": "planned"}, format="json")
    assert back.status_code == 400 and "不能改为" in back.json()["message"]
    unknown = medical_api.post(url, {"status": "done"}, format="json")
    assert unknown.status_code == 400 and "status" in unknown.json()["extra"]["fields"]

    delivered = medical_api.post(
        url, {"status": "delivered", "amount": "5000", "status_note": "已报销"}, format="json"
    )
    assert delivered.status_code == 200, delivered.json()
    body = delivered.json()
    assert body["status"] == "delivered" and body["actual_end"] == TODAY.isoformat()
    assert body["amount"] == "5000.00" and body["can_progress"] is False
    assert body["updated_by_name"] == "dept-medical"

    # Delivered is final, for the department and the village alike.
    for api, target in ((medical_api, "stopped"), (cadre_api, "in_progress")):
        refused = api.post(url, {"status": target, "status_note": "撤销"}, format="json")
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("措施已是“已落实”")
    pm.refresh_from_db()
    assert pm.status == MeasureStatus.DELIVERED
    assert (
        AuditEvent.objects.filter(
            target_type="assistance.planmeasure",
            target_id=str(pm.pk),
            actor__username="dept-medical",
        ).count()
        == 2
    )

    civil = f.make_user(
        "dept-civil", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="civil_affairs"
    )
    other = _planned(_monitored())
    assert (
        api_client_for(civil)
        .post(f"/api/plan-measures/{other.pk}/progress/", {"status": "delivered"}, format="json")
        .status_code
        == 404
    )


def test_stopping_needs_a_reason(cadre_api):
    pm = _planned(_monitored())
    url = f"/api/plan-measures/{pm.pk}/progress/"
    silent = cadre_api.post(url, {"status": "stopped"}, format="json")
    assert silent.status_code == 400 and silent.json()["message"] == "终止措施须说明原因"
    stopped = cadre_api.post(
        url, {"status": "stopped", "status_note": "已纳入低保，不再需要"}, format="json"
    )
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert stopped.json()["can_edit"] is False
    again = cadre_api.post(url, {"status": "in_progress"}, format="json")
    assert again.status_code == 400


# -- bulk delivery and registry flags ---------------------------------------------------------

BULK_URL = "/api/plan-measures/bulk-progress/"


def _overdue(household, name: str = "医疗救助") -> PlanMeasure:
    long_ago = TODAY - dt.timedelta(days=200)
    return _planned(household, name, planned_start=long_ago, planned_end=long_ago)


def test_bulk_progress_delivers_many_measures_in_one_request(medical_api):
    rows = [_overdue(_monitored()) for _ in range(3)]
    on = TODAY - dt.timedelta(days=1)

    response = medical_api.post(
        BULK_URL,
        {
            "ids": [pm.pk for pm in rows],
            "status": "delivered",
            "date": on.isoformat(),
            "note": "统一拨付",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 3
    assert {r["id"] for r in body["results"]} == {pm.pk for pm in rows}
    for result in body["results"]:
        assert result["status"] == "delivered" and result["actual_end"] == on.isoformat()
        assert result["status_note"] == "统一拨付" and result["can_progress"] is False
    for pm in rows:
        assert (
            AuditEvent.objects.filter(
                target_type="assistance.planmeasure",
                target_id=str(pm.pk),
                action="update",
                actor__username="dept-medical",
            ).count()
            == 1
        )


def test_bulk_progress_refuses_the_whole_batch_with_the_rows(medical_api, cadre_api):
    mine = _overdue(_monitored())
    civil = _overdue(_monitored(), "低保")
    far = _overdue(_monitored(f.VILLAGE_OTHER_TOWNSHIP))

    refused = medical_api.post(
        BULK_URL, {"ids": [mine.pk, civil.pk], "status": "delivered"}, format="json"
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "application_error"
    assert body["message"].startswith("以下 1 项措施不能更新，整批均未保存")
    assert [row["id"] for row in body["extra"]["rows"]] == [civil.pk]
    # The village cadre: the other township's measure is refused, named by its id only.
    refused = cadre_api.post(
        BULK_URL, {"ids": [mine.pk, far.pk], "status": "in_progress"}, format="json"
    )
    assert refused.status_code == 400
    (row,) = refused.json()["extra"]["rows"]
    assert row == {
        "id": far.pk,
        "label": f"编号 {far.pk}",
        "reasons": ["措施不存在，或不在您的管辖范围内、不由本部门负责"],
    }
    assert set(PlanMeasure.objects.values_list("status", flat=True)) == {"planned"}

    empty = medical_api.post(BULK_URL, {"ids": [], "status": "delivered"}, format="json")
    assert empty.status_code == 400 and "ids" in empty.json()["extra"]["fields"]
    stop = medical_api.post(
        BULK_URL, {"ids": [mine.pk], "status": "stopped", "note": "迁出"}, format="json"
    )
    assert stop.status_code == 400 and "批量登记只能标记为" in stop.json()["message"]


def test_progress_confirms_a_registry_flag(cadre_api, api_client_for):
    from shouwang.registry.models import Household

    household = _monitored(risk_type_1=rc.RiskType.HOUSING, housing_secure=False)
    repair = _planned(household, "农村危房改造")
    url = f"/api/plan-measures/{repair.pk}/progress/"
    shown = cadre_api.get(f"/api/plan-measures/{repair.pk}/").json()
    assert shown["registry_flags_to_confirm"] == ["housing_secure"]

    unknown = cadre_api.post(
        url, {"status": "delivered", "registry_flags": {"roof": True}}, format="json"
    )
    assert unknown.status_code == 400 and "registry_flags" in unknown.json()["extra"]["fields"]
    not_asked = cadre_api.post(
        url,
        {"status": "delivered", "registry_flags": {"drinking_water_secure": True}},
        format="json",
    )
    assert not_asked.status_code == 400
    housing = f.make_user(
        "dept-housing", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="housing"
    )
    officer = api_client_for(housing).post(
        url, {"status": "delivered", "registry_flags": {"housing_secure": True}}, format="json"
    )
    assert officer.status_code == 403 and "不能修改农户档案" in officer.json()["message"]
    repair.refresh_from_db()
    assert repair.status == MeasureStatus.PLANNED

    done = cadre_api.post(
        url, {"status": "delivered", "registry_flags": {"housing_secure": True}}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "delivered"
    assert done.json()["registry_flags_to_confirm"] == []
    assert Household.objects.get(pk=household.pk).housing_secure is True
    event = AuditEvent.objects.filter(
        target_type="registry.household", target_id=str(household.pk), action="update"
    ).latest("id")
    assert event.actor.username == "cadre-a"
    assert event.after["housing_secure"] is True

    far = _planned(
        _monitored(f.VILLAGE_OTHER_TOWNSHIP, risk_type_1=rc.RiskType.HOUSING, housing_secure=False),
        "农村危房改造",
    )
    outside = cadre_api.post(
        f"/api/plan-measures/{far.pk}/progress/",
        {"status": "delivered", "registry_flags": {"housing_secure": True}},
        format="json",
    )
    assert outside.status_code == 404
    assert Household.objects.get(pk=far.plan.household_id).housing_secure is False


# -- query counts ------------------------------------------------------------------------------


def _plans(count: int) -> None:
    for i in range(count):
        household = _monitored(f.VILLAGE_A if i % 2 else f.VILLAGE_B)
        _planned(household)
        _planned(
            household,
            "低保",
            planned_start=TODAY - dt.timedelta(days=60),
            planned_end=TODAY - dt.timedelta(days=1),
        )


LIST_QUERIES = [
    # token, (divisions of the area), count, page, (prefetch)
    ("/api/measure-groups/", "admin", 4),
    ("/api/measures/", "admin", 3),
    ("/api/recommendation-rules/", "admin", 3),
    ("/api/plans/", "township", 5),
    ("/api/plans/", "medical", 5),
    ("/api/plan-measures/", "township", 4),
    ("/api/plan-measures/", "medical", 4),
    ("/api/plan-measures/?overdue=true&department=civil_affairs", "township", 4),
]


@pytest.mark.parametrize(("url", "who", "queries"), LIST_QUERIES)
def test_list_query_counts_do_not_grow_with_rows(
    url, who, queries, admin_api, township_api, medical_api, django_assert_num_queries
):
    api = {"admin": admin_api, "township": township_api, "medical": medical_api}[who]
    _plans(2)
    with django_assert_num_queries(queries):
        assert api.get(url).status_code == 200
    _plans(6)
    with django_assert_num_queries(queries):
        response = api.get(url)
    assert response.status_code == 200
    assert response.json()["count"] > 0


# -- schema and sign-in ------------------------------------------------------------------------


def test_signing_in_is_required():
    for url in ("/api/measures/", "/api/plans/", "/api/plan-measures/"):
        response = APIClient().get(url)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_filters_and_bodies_are_documented():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    def parameters(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", [])}

    assert {"status", "department", "group", "village", "township", "overdue", "page"} <= (
        parameters("/api/plan-measures/")
    )
    assert "household" in parameters("/api/plans/proposals/")
    progress = paths["/api/plan-measures/{id}/progress/"]["post"]["requestBody"]
    assert progress["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PlanMeasureProgressRequest"
    )
    bulk = paths["/api/plan-measures/bulk-progress/"]["post"]["requestBody"]
    assert bulk["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PlanMeasureBulkProgressRequest"
    )
    components = schema["components"]["schemas"]
    assert set(components["PlanMeasureBulkProgressRequest"]["properties"]) == {
        "ids",
        "status",
        "date",
        "note",
    }
    assert "registry_flags" in components["PlanMeasureProgressRequest"]["properties"]
    assert "registry_flags_to_confirm" in components["PlanMeasure"]["properties"]
    assert components["MeasureStatusEnum"]["enum"] == [s.value for s in MeasureStatus]
    assert set(components["PlanProposal"]["properties"]) >= {
        "measure",
        "member",
        "rule",
        "rule_name",
        "reason",
    }
