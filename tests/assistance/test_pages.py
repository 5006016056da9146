"""Assistance pages: the measure lists per role and area, one measure with its delivery and
edit forms, a household's plan with the rules' proposals, the catalogue and the rules.

Another area's household or measure answers 404; a role that may not do something gets
403; refused input comes back in Chinese with what was typed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.assistance.choices import MeasureSource, MeasureStatus
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure, RecommendationRule
from shouwang.assistance.services import plan_accept, plan_measure_progress
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

INDEX_URL = reverse("assistance:index")
OVERDUE_URL = reverse("assistance:overdue")
CATALOGUE_URL = reverse("assistance:catalogue")
RULES_URL = reverse("assistance:rule_list")


@pytest.fixture
def civil_officer(db):
    return f.make_user(
        "dept-civil", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="civil_affairs"
    )


def monitored(village: str = f.VILLAGE_A, **data):
    """A monitored household at risk through illness: a head who can work and a spouse with
    a serious illness."""
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    household = f.make_household(village, members=0, **{**fields, **data})
    f.make_member(household, name="冉大山", relation=rc.Relation.HEAD)
    f.make_member(
        household,
        id_number=f.next_id_number(male=False),
        name="冉秀英",
        relation=rc.Relation.SPOUSE,
        health_status=rc.HealthStatus.SERIOUS_ILLNESS,
        labour_skill=rc.LabourSkill.WEAK,
    )
    household.refresh_from_db()
    return household


def planned(household, *names: str, **item) -> list[PlanMeasure]:
    measures = [Measure.objects.get(name=name) for name in names]
    plan = plan_accept(
        actor=None, household=household, items=[{"measure": m, **item} for m in measures]
    )
    return list(plan.measures.filter(measure__in=measures).order_by("id"))


def listed(response) -> set[int]:
    return {pm.pk for pm in response.context["page"].object_list}


def detail_url(pm: PlanMeasure) -> str:
    return reverse("assistance:measure_detail", args=[pm.pk])


def plan_url(household) -> str:
    return reverse("assistance:household_plan", args=[household.pk])


# --- the measure lists -------------------------------------------------------------------


def test_lists_hold_the_area_of_each_planner(client, village_cadre, township_staff, district_staff):
    here = planned(monitored(), "医疗救助")[0]
    neighbour = planned(monitored(f.VILLAGE_B), "医疗救助")[0]
    elsewhere = planned(monitored(f.VILLAGE_OTHER_TOWNSHIP), "医疗救助")[0]

    client.force_login(village_cadre)
    response = client.get(INDEX_URL)
    assert response.status_code == 200
    assert listed(response) == {here.pk}
    assert "township" not in response.context["filter_form"].fields  # one village: no dropdown
    client.force_login(township_staff)
    assert listed(client.get(INDEX_URL)) == {here.pk, neighbour.pk}
    client.force_login(district_staff)
    assert listed(client.get(INDEX_URL)) == {here.pk, neighbour.pk, elsewhere.pk}
    text = client.get(INDEX_URL).content.decode()
    assert 'aria-current="page">计划措施' in text
    assert reverse("coverage:overview") in text and reverse("social:offer_list") in text


def test_department_officer_sees_their_department_across_the_district(client, department_officer):
    medical = planned(monitored(), "医疗救助", "低保")
    far = planned(monitored(f.VILLAGE_OTHER_TOWNSHIP), "医疗救助")[0]
    client.force_login(department_officer)
    response = client.get(INDEX_URL)
    assert response.status_code == 200
    assert listed(response) == {medical[0].pk, far.pk}  # 低保 is civil affairs'
    assert "department" not in response.context["filter_form"].fields
    text = response.content.decode()
    assert "医保局负责落实的帮扶措施" in text
    assert "精准帮扶" in text  # the navigation link
    # The plan page is the planners'; a department officer's rows do not link to it.
    assert plan_url(medical[0].plan.household) not in text
    # Coverage and social help are the planners' pages: no tab leads to a 403.
    assert reverse("coverage:overview") not in text
    assert reverse("social:offer_list") not in text


def test_filters_narrow_the_list(client, district_staff):
    household = monitored()
    medical, dibao = planned(household, "医疗救助", "低保")
    other = planned(monitored(f.VILLAGE_B), "医疗救助")[0]
    plan_measure_progress(actor=None, plan_measure=dibao, status=MeasureStatus.IN_PROGRESS)
    client.force_login(district_staff)
    assert listed(client.get(INDEX_URL, {"status": "in_progress"})) == {dibao.pk}
    assert listed(client.get(INDEX_URL, {"department": "medical_insurance"})) == {
        medical.pk,
        other.pk,
    }
    health = MeasureGroup.objects.get(code="health")
    assert listed(client.get(INDEX_URL, {"group": health.pk})) == {medical.pk, other.pk}
    assert listed(client.get(INDEX_URL, {"village": f.VILLAGE_B})) == {other.pk}
    assert listed(client.get(INDEX_URL, {"township": f.TOWNSHIP_HUOLU})) == {
        medical.pk,
        dibao.pk,
        other.pk,
    }
    assert listed(client.get(INDEX_URL, {"household_id": household.pk})) == {medical.pk, dibao.pk}
    # htmx asks for the results only.
    partial = client.get(INDEX_URL, {"status": "planned"}, headers={"HX-Request": "true"})
    assert partial.templates[0].name == "assistance/_measure_results.html"


def test_overdue_measures_are_listed(client, village_cadre):
    household = monitored()
    today = timezone.localdate()
    late = planned(
        household,
        "医疗救助",
        planned_start=today - dt.timedelta(days=60),
        planned_end=today - dt.timedelta(days=3),
    )[0]
    on_time = planned(household, "低保")[0]
    client.force_login(village_cadre)
    response = client.get(OVERDUE_URL)
    assert listed(response) == {late.pk}
    assert "逾期 3 天" in response.content.decode()
    assert "overdue" not in response.context["filter_form"].fields
    assert listed(client.get(INDEX_URL, {"overdue": "true"})) == {late.pk}
    assert listed(client.get(INDEX_URL, {"overdue": "false"})) == {on_time.pk}
    # Delivered, it is no longer owed.
    plan_measure_progress(actor=None, plan_measure=late, status=MeasureStatus.DELIVERED)
    assert listed(client.get(OVERDUE_URL)) == set()


def test_roles_without_assistance_get_403(client, db):
    nobody = f.make_user("no-role", "", [f.VILLAGE_A])
    client.force_login(nobody)
    assert client.get(INDEX_URL).status_code == 403
    assert "精准帮扶" not in client.get(reverse("home")).content.decode()


# --- one measure -------------------------------------------------------------------------


def test_another_areas_measure_and_household_answer_404(client, village_cadre, department_officer):
    far_household = monitored(f.VILLAGE_OTHER_TOWNSHIP)
    far = planned(far_household, "医疗救助", "低保")
    client.force_login(village_cadre)
    assert client.get(detail_url(far[0])).status_code == 404
    assert client.post(detail_url(far[0]), {"form": "delivery"}).status_code == 404
    assert client.get(plan_url(far_household)).status_code == 404
    # A department officer does not see another department's measure at all.
    client.force_login(department_officer)
    assert client.get(detail_url(far[0])).status_code == 200
    assert client.get(detail_url(far[1])).status_code == 404
    response = client.post(detail_url(far[1]), {"form": "delivery", "delivery-status": "delivered"})
    assert response.status_code == 404
    assert PlanMeasure.objects.get(pk=far[1].pk).status == MeasureStatus.PLANNED


def test_department_officer_marks_their_measure_delivered(client, department_officer):
    pm = planned(monitored(), "医疗救助", responsible_person="李医保")[0]
    client.force_login(department_officer)
    response = client.get(detail_url(pm))
    assert response.status_code == 200
    assert response.context["delivery_form"] is not None
    assert response.context["edit_form"] is None  # planning is not theirs
    form = response.context["delivery_form"]
    assert [value for value, _label in form.fields["status"].choices] == [
        "planned",
        "in_progress",
        "delivered",
        "stopped",
    ]
    response = client.post(
        detail_url(pm),
        {
            "form": "delivery",
            "delivery-status": "delivered",
            "delivery-amount": "3200.50",
            "delivery-status_note": "大病医疗救助已拨付",
        },
    )
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.status == MeasureStatus.DELIVERED
    assert pm.amount == Decimal("3200.50")
    assert pm.actual_end == timezone.localdate()
    assert pm.updated_by == department_officer
    event = AuditEvent.objects.filter(target_type="assistance.planmeasure").latest("id")
    assert event.actor == department_officer
    page = client.get(detail_url(pm))
    text = page.content.decode()
    assert "已更新“医疗救助”的落实情况：已落实。" in text
    assert page.context["delivery_form"] is None  # delivered is final
    assert "3200.50" in text
    assert "大病医疗救助已拨付" in text  # the history shows the change
    history = page.context["history"]
    assert history[0].event.action == "update"
    assert ("状态", "计划中", "已落实") in history[0].changes


def test_department_officer_cannot_edit_the_plan(client, department_officer):
    pm = planned(monitored(), "医疗救助")[0]
    client.force_login(department_officer)
    response = client.post(
        detail_url(pm),
        {"form": "edit", "edit-department": "civil_affairs", "edit-planned_start": "2026-01-01"},
    )
    assert response.status_code == 403
    assert "只有村、乡镇（街道）和区县工作人员可以修改帮扶计划" in response.content.decode()
    assert PlanMeasure.objects.get(pk=pm.pk).department == "medical_insurance"
    assert client.get(plan_url(pm.plan.household)).status_code == 403


def test_delivery_refusals_keep_the_input(client, village_cadre):
    pm = planned(monitored(), "低保")[0]
    client.force_login(village_cadre)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        detail_url(pm),
        {
            "form": "delivery",
            "delivery-status": "delivered",
            "delivery-actual_end": tomorrow.isoformat(),
            "delivery-amount": "600",
        },
    )
    assert response.status_code == 200
    form = response.context["delivery_form"]
    assert form.non_field_errors() == ["实际日期不能晚于今天"]
    assert form["amount"].value() == "600"
    response = client.post(
        detail_url(pm), {"form": "delivery", "delivery-status": "stopped", "delivery-amount": "x"}
    )
    form = response.context["delivery_form"]
    assert form.errors["amount"] == ["输入一个数字。"]
    response = client.post(detail_url(pm), {"form": "delivery", "delivery-status": "stopped"})
    assert response.context["delivery_form"].non_field_errors() == ["终止措施须说明原因"]
    assert "终止措施须说明原因" in response.content.decode()
    assert PlanMeasure.objects.get(pk=pm.pk).status == MeasureStatus.PLANNED


def test_planner_edits_a_measure(client, village_cadre):
    pm = planned(monitored(), "医疗救助")[0]
    client.force_login(village_cadre)
    data = {
        "form": "edit",
        "edit-department": "health",
        "edit-responsible_person": "王医生",
        "edit-planned_start": pm.planned_start.isoformat(),
        "edit-planned_end": (pm.planned_start - dt.timedelta(days=1)).isoformat(),
        "edit-amount": "",
        "edit-quantity": "",
        "edit-status_note": "",
    }
    response = client.post(detail_url(pm), data)
    assert response.status_code == 200
    form = response.context["edit_form"]
    assert "计划完成日期不能早于计划开始日期" in str(form.errors)
    assert form["responsible_person"].value() == "王医生"
    data["edit-planned_end"] = (pm.planned_start + dt.timedelta(days=30)).isoformat()
    assert client.post(detail_url(pm), data).status_code == 302
    pm.refresh_from_db()
    assert (pm.department, pm.responsible_person) == ("health", "王医生")


# --- a household's plan ------------------------------------------------------------------


def test_planner_accepts_proposals_with_their_rules(client, village_cadre):
    household = monitored()
    client.force_login(village_cadre)
    response = client.get(plan_url(household))
    assert response.status_code == 200
    rows = {row.proposal.measure.name: row for row in response.context["rows"]}
    assert set(rows) == {"医疗救助", "技能培训"}
    text = response.content.decode()
    assert "推荐规则：因病：患病成员医疗救助" in text
    assert "冉秀英（患有大病" in text  # the reason names the member
    assert "因病" in text and "普通劳动力" in text and "患有大病" in text
    assert response.context["labour"] == "有劳动能力"

    medical = rows["医疗救助"]
    prefix = medical.form.prefix
    end = timezone.localdate() + dt.timedelta(days=45)
    response = client.post(
        plan_url(household),
        {
            "form": "accept",
            "accept": [medical.token, rows["技能培训"].token],
            f"{prefix}-department": "medical_insurance",
            f"{prefix}-responsible_person": "李医保",
            f"{prefix}-planned_end": end.isoformat(),
            f"{prefix}-amount": "5000",
            f"{rows['技能培训'].form.prefix}-department": "human_resources",
            f"{rows['技能培训'].form.prefix}-planned_end": end.isoformat(),
        },
    )
    assert response.status_code == 302
    measures = {pm.measure.name: pm for pm in PlanMeasure.objects.filter(plan__household=household)}
    assert set(measures) == {"医疗救助", "技能培训"}
    pm = measures["医疗救助"]
    assert pm.rule == RecommendationRule.objects.get(name="因病：患病成员医疗救助")
    assert pm.rule_name == "因病：患病成员医疗救助"
    assert pm.source == MeasureSource.RECOMMENDED
    assert "患有大病" in pm.reason
    assert pm.member.name == "冉秀英"
    assert (pm.responsible_person, pm.planned_end, pm.amount) == ("李医保", end, Decimal("5000"))
    assert pm.plan.accepted_by == village_cadre
    assert measures["技能培训"].rule_name == "有劳动能力：至少一项开发式帮扶"

    page = client.get(plan_url(household))
    assert page.context["rows"] == []  # everything proposed is planned now
    text = page.content.decode()
    assert "已接受 2 项帮扶措施" in text
    assert "推荐规则：因病：患病成员医疗救助" in text  # shown on the plan's rows


def test_accept_refusals_keep_the_input(client, village_cadre):
    household = monitored()
    client.force_login(village_cadre)
    rows = client.get(plan_url(household)).context["rows"]
    prefix = rows[0].form.prefix
    response = client.post(plan_url(household), {"form": "accept"})
    assert response.status_code == 200
    assert response.context["accept_error"] == "请至少选择一项帮扶措施"
    response = client.post(
        plan_url(household),
        {
            "form": "accept",
            "accept": rows[0].token,
            f"{prefix}-department": "medical_insurance",
            f"{prefix}-responsible_person": "李医保",
            f"{prefix}-planned_end": "",
            f"{prefix}-amount": "-5",
            # An unchecked row keeps what was typed and raises nothing.
            f"{rows[1].form.prefix}-responsible_person": "张人社",
            f"{rows[1].form.prefix}-amount": "oops",
        },
    )
    assert response.status_code == 200
    assert "请按提示修改所选措施中标红的项目" in response.context["accept_error"]
    first, second = response.context["rows"]
    assert first.checked and not second.checked
    assert first.form.errors["planned_end"] == ["该字段是必填项。"]
    assert first.form.errors["amount"] == ["确保该值大于或等于0。"]
    assert first.form["responsible_person"].value() == "李医保"
    assert second.form["responsible_person"].value() == "张人社"
    assert not second.form.errors
    assert not PlanMeasure.objects.filter(plan__household=household).exists()


def test_planner_adds_a_measure_by_hand(client, village_cadre):
    household = monitored()
    spouse = household.members.get(name="冉秀英")
    client.force_login(village_cadre)
    form = client.get(plan_url(household)).context["add_form"]
    groups = [
        label for label, options in form.fields["measure"].choices if isinstance(options, list)
    ]
    assert groups[:2] == ["产业帮扶", "就业帮扶"]  # grouped, in the catalogue's order
    response = client.post(plan_url(household), {"form": "add", "add-member": str(spouse.pk)})
    assert response.status_code == 200
    assert response.context["add_form"].errors["measure"] == ["请选择要添加的措施"]
    assert response.context["add_open"]
    measure = Measure.objects.get(name="家庭医生签约服务")
    today = timezone.localdate()
    data = {
        "form": "add",
        "add-measure": str(measure.pk),
        "add-member": str(spouse.pk),
        "add-responsible_person": "王医生",
        "add-planned_start": today.isoformat(),
        "add-planned_end": (today - dt.timedelta(days=1)).isoformat(),
    }
    response = client.post(plan_url(household), data)
    assert response.status_code == 200
    assert "计划完成日期不能早于计划开始日期" in str(response.context["add_form"].errors)
    assert response.context["add_form"]["responsible_person"].value() == "王医生"
    data["add-planned_end"] = (today + dt.timedelta(days=20)).isoformat()
    assert client.post(plan_url(household), data).status_code == 302
    pm = PlanMeasure.objects.get(plan__household=household)
    assert (pm.measure, pm.member, pm.source, pm.department) == (
        measure,
        spouse,
        MeasureSource.MANUAL,
        "health",
    )
    assert pm.rule is None and pm.rule_name == ""
    # The same measure for the same member twice is refused, in words.
    response = client.post(plan_url(household), data)
    assert "计划中已有措施“家庭医生签约服务”（冉秀英）" in str(response.context["add_form"].errors)


def test_a_household_not_monitored_cannot_have_a_plan(client, village_cadre):
    household = f.make_household(household_type=rc.HouseholdType.ORDINARY)
    client.force_login(village_cadre)
    response = client.get(plan_url(household))
    assert response.status_code == 200
    text = response.content.decode()
    assert "该户尚未纳入监测（也未走绿色通道），不能制定帮扶计划" in text
    assert "接受所选措施" not in text and "添加到计划" not in text
    measure = Measure.objects.get(name="低保")
    response = client.post(plan_url(household), {"form": "add", "add-measure": str(measure.pk)})
    assert response.status_code == 200
    assert not PlanMeasure.objects.filter(plan__household=household).exists()


def test_household_page_links_to_the_plan(client, village_cadre, department_officer):
    household = monitored()
    pm = planned(household, "医疗救助", "低保")[0]
    plan_measure_progress(actor=None, plan_measure=pm, status=MeasureStatus.DELIVERED)
    client.force_login(village_cadre)
    text = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert plan_url(household) in text
    assert '帮扶计划<span class="plan-count">（2 项，已落实 1 项）</span>' in text
    ordinary = f.make_household(household_type=rc.HouseholdType.ORDINARY)
    text = client.get(reverse("registry:household_detail", args=[ordinary.pk])).content.decode()
    assert plan_url(ordinary) not in text


def test_elimination_criteria_link_to_the_plan(client, village_cadre):
    household = monitored()
    client.force_login(village_cadre)
    response = client.get(reverse("cases:elimination_start", args=[household.pk]))
    assert plan_url(household) in response.content.decode()


# --- catalogue and rules -----------------------------------------------------------------


def test_catalogue_is_read_by_all_and_edited_by_the_district_admin(
    client, village_cadre, department_officer, district_admin
):
    for user in (village_cadre, department_officer):
        client.force_login(user)
        response = client.get(CATALOGUE_URL)
        assert response.status_code == 200
        assert "医疗救助" in response.content.decode()
        assert reverse("assistance:measure_create") not in response.content.decode()
        assert client.get(reverse("assistance:measure_create")).status_code == 403
        assert client.post(reverse("assistance:group_create"), {"name": "X"}).status_code == 403
    client.force_login(district_admin)
    text = client.get(CATALOGUE_URL).content.decode()
    assert reverse("assistance:measure_create") in text
    assert "对应风险类型：因病 / 因意外事故" in text  # 健康帮扶

    response = client.post(
        reverse("assistance:group_create"),
        {
            "code": "relief",
            "name": "帮扶救急",
            "sort_order": "200",
            "covers_risk_types": ["accident"],
        },
    )
    assert response.status_code == 302
    group = MeasureGroup.objects.get(code="relief")
    assert group.covers_risk_types == ["accident"]
    measure_data = {
        "group": str(group.pk),
        "name": "急难救助",
        "department": "civil_affairs",
        "unit": "元",
        "active": "on",
        "backstop": "on",
        "development": "on",
    }
    response = client.post(reverse("assistance:measure_create"), measure_data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["一项措施不能既是开发式帮扶又是兜底保障"]
    assert response.context["form"]["name"].value() == "急难救助"
    del measure_data["development"]
    assert client.post(reverse("assistance:measure_create"), measure_data).status_code == 302
    measure = Measure.objects.get(name="急难救助")
    # A second measure of the same name in the group: the page says so.
    response = client.post(reverse("assistance:measure_create"), measure_data)
    assert "该类别下已有同名措施" in str(response.context["form"].errors)
    edit = reverse("assistance:measure_edit", args=[measure.pk])
    assert client.get(edit).context["form"]["name"].value() == "急难救助"
    assert client.post(edit, {**measure_data, "active": ""}).status_code == 302
    measure.refresh_from_db()
    assert not measure.active
    assert (
        AuditEvent.objects.filter(target_type="assistance.measure", actor=district_admin).count()
        == 2
    )


def test_rules_are_read_by_all_and_edited_by_the_district_admin(
    client, township_staff, district_admin
):
    client.force_login(township_staff)
    response = client.get(RULES_URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert "因病：患病成员医疗救助" in text
    assert "成员健康状况：患有大病、长期慢性病" in text
    assert reverse("assistance:rule_create") not in text
    rule = RecommendationRule.objects.get(name="因病：患病成员医疗救助")
    for url in (
        reverse("assistance:rule_create"),
        reverse("assistance:rule_edit", args=[rule.pk]),
        reverse("assistance:rule_delete", args=[rule.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    assert RecommendationRule.objects.filter(pk=rule.pk).exists()

    client.force_login(district_admin)
    form = client.get(reverse("assistance:rule_create")).context["form"]
    assert form.fields["risk_types"].widget.input_type == "checkbox"
    assert form.fields["member_health_statuses"].widget.input_type == "checkbox"
    measure = Measure.objects.get(name="临时救助")
    data = {
        "name": "因意外事故：临时救助",
        "priority": "25",
        "active": "on",
        "measure": str(measure.pk),
        "risk_types": ["accident", "natural_disaster"],
        "household_labour": "any",
        "member_age_min": "70",
        "member_age_max": "60",
        "member_health_statuses": ["serious_illness"],
    }
    response = client.post(reverse("assistance:rule_create"), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["成员年龄下限不能大于上限"]
    assert response.context["form"]["risk_types"].value() == ["accident", "natural_disaster"]
    data["member_age_min"] = "18"
    assert client.post(reverse("assistance:rule_create"), data).status_code == 302
    created = RecommendationRule.objects.get(name="因意外事故：临时救助")
    assert created.risk_types == ["accident", "natural_disaster"]
    assert created.member_health_statuses == ["serious_illness"]
    assert created.measure == measure

    edit = reverse("assistance:rule_edit", args=[created.pk])
    assert client.post(edit, {**data, "priority": "26", "per_member": "on"}).status_code == 302
    created.refresh_from_db()
    assert (created.priority, created.per_member) == (26, True)
    delete = reverse("assistance:rule_delete", args=[created.pk])
    assert "删除推荐规则“因意外事故：临时救助”？" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not RecommendationRule.objects.filter(pk=created.pk).exists()


def test_a_deleted_rules_measures_keep_its_name(client, village_cadre, district_admin):
    household = monitored()
    client.force_login(village_cadre)
    row = next(
        r for r in client.get(plan_url(household)).context["rows"] if r.proposal.rule.priority == 20
    )
    client.post(
        plan_url(household),
        {
            "form": "accept",
            "accept": row.token,
            f"{row.form.prefix}-department": "medical_insurance",
            f"{row.form.prefix}-planned_end": "2099-01-01",
        },
    )
    pm = PlanMeasure.objects.get(plan__household=household)
    client.force_login(district_admin)
    client.post(reverse("assistance:rule_delete", args=[pm.rule_id]))
    text = client.get(detail_url(pm)).content.decode()
    assert "因病：患病成员医疗救助（已删除）" in text


# --- query counts ------------------------------------------------------------------------

INDEX_QUERIES = 8
PLAN_QUERIES = 11


def test_index_queries_do_not_grow_with_measures(
    client, township_staff, django_assert_max_num_queries
):
    planned(monitored(), "医疗救助", "低保")
    client.force_login(township_staff)
    client.get(INDEX_URL)  # session and the like settle on the first request
    with django_assert_max_num_queries(INDEX_QUERIES) as few:
        assert client.get(INDEX_URL).status_code == 200
    for village in (f.VILLAGE_A, f.VILLAGE_B, f.VILLAGE_A):
        planned(monitored(village), "医疗救助", "低保", "技能培训")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INDEX_URL)
    assert len(listed(response)) == 11


def test_plan_page_queries_do_not_grow_with_measures(
    client, village_cadre, django_assert_max_num_queries
):
    household = monitored()
    planned(household, "低保")
    client.force_login(village_cadre)
    client.get(plan_url(household))
    with django_assert_max_num_queries(PLAN_QUERIES) as few:
        assert client.get(plan_url(household)).status_code == 200
    planned(household, "临时救助", "家庭医生签约服务", "大病专项救治", "参保资助")
    f.make_member(household, name="冉小军", relation=rc.Relation.SON)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(plan_url(household))
    assert len(response.context["plan_measures"]) == 5
