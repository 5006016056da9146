"""Delivery beyond one measure at a time: recording many measures in one submit (service,
list pages), and confirming the registry flag a delivered measure answers (住房安全有保障,
饮水安全有保障) in the same step, through the registry's own service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure
from shouwang.assistance.services import (
    delivery_flags,
    measure_group_save,
    plan_accept,
    plan_measure_progress,
    plan_measures_bulk_progress,
)
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LONG_AGO = TODAY - dt.timedelta(days=200)
INDEX_URL = reverse("assistance:index")
OVERDUE_URL = reverse("assistance:overdue")


@pytest.fixture
def housing_officer(db):
    return f.make_user(
        "dept-housing", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="housing"
    )


def monitored(village: str = f.VILLAGE_A, **data) -> Household:
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    return f.make_household(village, **{**fields, **data})


def unsafe_house(village: str = f.VILLAGE_A, **data) -> Household:
    """At risk through unsafe housing, and the registry says the house is not safe."""
    return monitored(village, risk_type_1=rc.RiskType.HOUSING, housing_secure=False, **data)


def planned(household, *names: str, overdue: bool = False) -> list[PlanMeasure]:
    """Measures put in ``household``'s plan by the services; ``overdue`` plans them long ago."""
    extra = {"planned_start": LONG_AGO, "planned_end": LONG_AGO} if overdue else {}
    measures = [Measure.objects.get(name=name) for name in names]
    plan = plan_accept(
        actor=None, household=household, items=[{"measure": m, **extra} for m in measures]
    )
    return [plan.measures.get(measure=m) for m in measures]


def audit_count(**filters) -> int:
    return AuditEvent.objects.filter(**filters).count()


def statuses(rows: list[PlanMeasure]) -> list[str]:
    return [PlanMeasure.objects.get(pk=pm.pk).status for pm in rows]


# --- bulk delivery: the service ---------------------------------------------------------


def test_a_department_records_many_deliveries_at_once(department_officer):
    rows = [planned(monitored(), "医疗救助", overdue=True)[0] for _ in range(3)]
    rows.append(planned(monitored(f.VILLAGE_OTHER_TOWNSHIP), "参保资助", overdue=True)[0])
    on = TODAY - dt.timedelta(days=2)

    saved = plan_measures_bulk_progress(
        actor=department_officer,
        plan_measure_ids=[pm.pk for pm in rows],
        status=MeasureStatus.DELIVERED,
        data={"actual_end": on, "status_note": "医疗救助资金已统一拨付"},
    )

    assert sorted(pm.pk for pm in saved) == sorted(pm.pk for pm in rows)
    for pm in rows:
        pm.refresh_from_db()
        assert pm.status == MeasureStatus.DELIVERED
        assert (pm.actual_start, pm.actual_end) == (on, on)
        assert pm.status_note == "医疗救助资金已统一拨付"
        assert pm.updated_by == department_officer
        # One audit row per measure, under its household, by the officer.
        events = AuditEvent.objects.filter(
            target_type="assistance.planmeasure", target_id=str(pm.pk), action="update"
        )
        assert events.count() == 1
        event = events.get()
        assert event.actor == department_officer
        assert event.subject == f"registry.household:{pm.plan.household_id}"
        assert event.before["status"] == "planned" and event.after["status"] == "delivered"


def test_in_progress_takes_the_date_as_the_start(village_cadre):
    rows = planned(monitored(), "医疗救助", "低保")
    on = TODAY - dt.timedelta(days=5)

    plan_measures_bulk_progress(
        actor=village_cadre,
        plan_measure_ids=[pm.pk for pm in rows],
        status=MeasureStatus.IN_PROGRESS,
        data={"actual_start": on},
    )

    for pm in rows:
        pm.refresh_from_db()
        assert (pm.status, pm.actual_start, pm.actual_end) == ("in_progress", on, None)


def test_one_refused_measure_refuses_the_whole_batch_and_names_every_refusal(village_cadre):
    household = monitored()
    good = planned(household, "医疗救助", "低保")
    done = planned(monitored(), "医疗救助")[0]
    plan_measure_progress(actor=None, plan_measure=done, status=MeasureStatus.DELIVERED)
    far = planned(monitored(f.VILLAGE_OTHER_TOWNSHIP), "医疗救助")[0]
    started = planned(monitored(), "临时救助")[0]
    plan_measure_progress(
        actor=None,
        plan_measure=started,
        status=MeasureStatus.IN_PROGRESS,
        data={"actual_start": TODAY},
    )
    missing = PlanMeasure.objects.order_by("-pk").first().pk + 1000
    before = audit_count()
    ids = [good[0].pk, done.pk, far.pk, good[1].pk, missing, started.pk]

    with pytest.raises(ApplicationError) as refused:
        plan_measures_bulk_progress(
            actor=village_cadre,
            plan_measure_ids=ids,
            status=MeasureStatus.DELIVERED,
            # Before the other measure was started: that one row is refused.
            data={"actual_end": TODAY - dt.timedelta(days=1)},
        )

    rows = {row["id"]: row for row in refused.value.extra["rows"]}
    assert set(rows) == {done.pk, far.pk, missing, started.pk}
    assert rows[done.pk]["reasons"] == ["措施已落实，不能再修改"]
    assert rows[done.pk]["label"].endswith("户 医疗救助")
    # Another area's measure reads like one that does not exist: no name, no household.
    assert rows[far.pk]["label"] == f"编号 {far.pk}"
    assert rows[far.pk]["reasons"] == rows[missing]["reasons"]
    assert "不在您的管辖范围内" in rows[far.pk]["reasons"][0]
    assert rows[started.pk]["reasons"] == ["实际完成日期不能早于实际开始日期"]
    message = refused.value.message
    assert message.startswith("以下 4 项措施不能更新，整批均未保存")
    assert f"编号 {missing}" in message and "临时救助" in message
    # Nothing half-written.
    assert statuses(good) == ["planned", "planned"]
    assert statuses([started]) == ["in_progress"]
    assert audit_count() == before


def test_a_department_officer_cannot_bulk_update_another_departments_measure(
    department_officer,
):
    medical, civil = planned(monitored(), "医疗救助", "低保")

    with pytest.raises(ApplicationError) as refused:
        plan_measures_bulk_progress(
            actor=department_officer,
            plan_measure_ids=[medical.pk, civil.pk],
            status=MeasureStatus.DELIVERED,
        )

    assert [row["id"] for row in refused.value.extra["rows"]] == [civil.pk]
    assert statuses([medical, civil]) == ["planned", "planned"]


@pytest.mark.parametrize(
    ("ids", "status", "data", "message"),
    [
        ([], "delivered", {}, "请至少选择一项措施"),
        (None, "stopped", {"status_note": "户已迁出"}, "批量登记只能标记为“实施中”或“已落实”"),
        (None, "finished", {}, "未知的措施状态"),
        (None, "delivered", {"amount": 100}, "批量登记不能修改的字段：amount"),
    ],
)
def test_bulk_requests_that_make_no_sense_are_refused(village_cadre, ids, status, data, message):
    pm = planned(monitored(), "医疗救助")[0]
    with pytest.raises(ApplicationError, match=message):
        plan_measures_bulk_progress(
            actor=village_cadre,
            plan_measure_ids=[pm.pk] if ids is None else ids,
            status=status,
            data=data,
        )
    assert statuses([pm]) == ["planned"]


def test_a_role_that_does_not_deliver_is_refused(db):
    nobody = f.make_user("no-role", "", [f.VILLAGE_A])
    pm = planned(monitored(), "医疗救助")[0]
    with pytest.raises(PermissionDenied):
        plan_measures_bulk_progress(
            actor=nobody, plan_measure_ids=[pm.pk], status=MeasureStatus.DELIVERED
        )


def test_bulk_delivery_leaves_a_pending_registry_question_to_the_measure_page(
    village_cadre, housing_officer
):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    medical = planned(monitored(), "医疗救助")[0]

    # A cadre would be asked whether the house is safe now: not in a batch.
    with pytest.raises(ApplicationError) as refused:
        plan_measures_bulk_progress(
            actor=village_cadre,
            plan_measure_ids=[medical.pk, repair.pk],
            status=MeasureStatus.DELIVERED,
        )
    (row,) = refused.value.extra["rows"]
    assert row["id"] == repair.pk
    assert "“住房安全有保障”为“否”" in row["reasons"][0]
    assert statuses([medical, repair]) == ["planned", "planned"]
    # In progress asks nothing.
    plan_measures_bulk_progress(
        actor=village_cadre, plan_measure_ids=[repair.pk], status=MeasureStatus.IN_PROGRESS
    )
    # The housing department cannot answer the registry question anywhere, so its batch goes.
    plan_measures_bulk_progress(
        actor=housing_officer, plan_measure_ids=[repair.pk], status=MeasureStatus.DELIVERED
    )
    assert statuses([repair]) == ["delivered"]
    assert Household.objects.get(pk=repair.plan.household_id).housing_secure is False


# --- bulk delivery: the list pages -------------------------------------------------------


def test_the_overdue_list_delivers_the_ticked_measures(client, department_officer):
    rows = [planned(monitored(), "医疗救助", overdue=True)[0] for _ in range(4)]
    client.force_login(department_officer)
    url = f"{OVERDUE_URL}?group={rows[0].measure.group_id}"

    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "批量登记落实" in text and "全选本页" in text
    assert text.count('name="pm"') == 4
    assert f'action="{url}"' in text.replace("&amp;", "&")

    response = client.post(
        url,
        {
            "pm": [rows[0].pk, rows[2].pk],
            "bulk-status": "delivered",
            "bulk-on": (TODAY - dt.timedelta(days=1)).isoformat(),
            "bulk-note": "已统一拨付",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == url  # the same list, filters kept
    assert statuses(rows) == ["delivered", "planned", "delivered", "planned"]
    after = client.get(url)
    assert "已将 2 项措施登记为“已落实”。" in after.content.decode()
    assert {pm.pk for pm in after.context["page"].object_list} == {rows[1].pk, rows[3].pk}


def test_a_refused_batch_comes_back_with_its_reasons_and_ticks(client, village_cadre):
    household = monitored()
    medical, civil = planned(household, "医疗救助", "低保")
    plan_measure_progress(
        actor=None,
        plan_measure=civil,
        status=MeasureStatus.IN_PROGRESS,
        data={"actual_start": TODAY},
    )
    client.force_login(village_cadre)

    response = client.post(
        INDEX_URL,
        {
            "pm": [medical.pk, civil.pk],
            "bulk-status": "delivered",
            "bulk-on": (TODAY - dt.timedelta(days=3)).isoformat(),
            "bulk-note": "统一落实",
        },
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "以下 1 项措施不能登记，整批均未保存" in text
    assert "户 低保</strong>：实际完成日期不能早于实际开始日期" in text
    assert [row["id"] for row in response.context["bulk_refused"]] == [civil.pk]
    form = response.context["bulk_form"]
    assert form["note"].value() == "统一落实"
    ticked = {pm.pk for pm in response.context["page"].object_list if pm.bulk_checked}
    assert ticked == {medical.pk, civil.pk}
    assert statuses([medical, civil]) == ["planned", "in_progress"]


def test_nothing_ticked_is_refused_in_chinese(client, village_cadre):
    planned(monitored(), "医疗救助")
    client.force_login(village_cadre)
    response = client.post(INDEX_URL, {"bulk-status": "delivered"})
    assert response.status_code == 200
    assert "请至少选择一项措施" in response.content.decode()


def test_final_measures_have_no_tick_box_and_the_wrong_role_gets_403(client, village_cadre):
    done, owed = planned(monitored(), "医疗救助", "低保")
    plan_measure_progress(actor=None, plan_measure=done, status=MeasureStatus.DELIVERED)
    client.force_login(village_cadre)
    text = client.get(INDEX_URL).content.decode()
    assert f'name="pm" value="{owed.pk}"' in text
    assert f'name="pm" value="{done.pk}"' not in text
    nobody = f.make_user("no-role", "", [f.VILLAGE_A])
    client.force_login(nobody)
    assert client.post(INDEX_URL, {"pm": [owed.pk], "bulk-status": "delivered"}).status_code == 403
    assert statuses([owed]) == ["planned"]


def test_a_list_without_open_measures_has_no_bulk_form(client, village_cadre):
    done = planned(monitored(), "医疗救助")[0]
    plan_measure_progress(actor=None, plan_measure=done, status=MeasureStatus.DELIVERED)
    client.force_login(village_cadre)
    assert "批量登记落实" not in client.get(INDEX_URL).content.decode()


def test_rows_whose_delivery_asks_a_registry_question_say_so(client, village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    client.force_login(village_cadre)
    text = client.get(INDEX_URL).content.decode()
    assert f'name="pm" value="{repair.pk}"' in text
    assert "落实时须确认“住房安全有保障”，请在措施页登记" in text


# --- registry flags: which ones a delivery asks ------------------------------------------


def test_the_flags_asked_follow_the_groups_risk_types(district_admin):
    house = unsafe_house()
    repair, medical, living = planned(house, "农村危房改造", "医疗救助", "人居环境改善")
    water = planned(monitored(risk_type_1=rc.RiskType.DRINKING_WATER), "农村供水工程改造")[0]

    assert delivery_flags(repair) == ("housing_secure",)
    assert delivery_flags(medical) == ()
    # 生产生活条件改善 answers both; the household has only the housing risk, and safe water.
    assert delivery_flags(living) == ("housing_secure",)
    assert delivery_flags(water) == ("drinking_water_secure",)
    # A flag that reads "not secure" is asked even without that identified risk.
    Household.objects.filter(pk=house.pk).update(drinking_water_secure=False)
    living = PlanMeasure.objects.select_related("plan__household", "measure__group").get(
        pk=living.pk
    )
    assert delivery_flags(living) == ("housing_secure", "drinking_water_secure")

    # The mapping is data: a group that is said to answer the housing risk asks for it.
    health = MeasureGroup.objects.get(code="health")
    measure_group_save(
        actor=district_admin,
        group=health,
        data={"covers_risk_types": [*health.covers_risk_types, rc.RiskType.HOUSING]},
    )
    medical = PlanMeasure.objects.select_related("plan__household", "measure__group").get(
        pk=medical.pk
    )
    assert delivery_flags(medical) == ("housing_secure",)


# --- registry flags: the service ---------------------------------------------------------


def test_delivery_confirms_the_housing_flag_through_the_registry(village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    household_id = repair.plan.household_id

    plan_measure_progress(
        actor=village_cadre,
        plan_measure=repair,
        status=MeasureStatus.DELIVERED,
        registry_flags={"housing_secure": True},
    )

    repair.refresh_from_db()
    assert repair.status == MeasureStatus.DELIVERED
    household = Household.objects.get(pk=household_id)
    assert household.housing_secure is True
    event = AuditEvent.objects.filter(
        target_type="registry.household", target_id=str(household_id), action="update"
    ).latest("id")
    assert event.actor == village_cadre
    assert (event.before["housing_secure"], event.after["housing_secure"]) == (False, True)
    assert AuditEvent.objects.filter(
        target_type="assistance.planmeasure", target_id=str(repair.pk), action="update"
    ).exists()


def test_an_unchanged_answer_writes_nothing_to_the_registry(village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    plan_measure_progress(
        actor=village_cadre,
        plan_measure=repair,
        status=MeasureStatus.DELIVERED,
        registry_flags={"housing_secure": False},
    )
    assert not AuditEvent.objects.filter(target_type="registry.household", action="update").exists()
    assert statuses([repair]) == ["delivered"]


def test_confirmation_outside_the_area_is_refused_and_nothing_is_written(
    township_staff, village_cadre
):
    far = planned(unsafe_house(f.VILLAGE_OTHER_TOWNSHIP), "农村危房改造")[0]
    for actor in (village_cadre, township_staff):
        with pytest.raises(PermissionDenied):
            plan_measure_progress(
                actor=actor,
                plan_measure=far,
                status=MeasureStatus.DELIVERED,
                registry_flags={"housing_secure": True},
            )
    assert statuses([far]) == ["planned"]
    assert Household.objects.get(pk=far.plan.household_id).housing_secure is False


def test_a_department_officer_cannot_change_the_registry_and_the_delivery_rolls_back(
    housing_officer,
):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    before = audit_count()
    with pytest.raises(PermissionDenied, match="不能修改农户档案中的住房安全有保障"):
        plan_measure_progress(
            actor=housing_officer,
            plan_measure=repair,
            status=MeasureStatus.DELIVERED,
            registry_flags={"housing_secure": True},
        )
    assert statuses([repair]) == ["planned"]  # the same transaction: nothing half-written
    assert audit_count() == before


@pytest.mark.parametrize(
    ("status", "flags", "message"),
    [
        ("in_progress", {"housing_secure": True}, "只有将措施标记为“已落实”时"),
        ("delivered", {"drinking_water_secure": True}, "不确认以下农户档案项目：饮水安全有保障"),
    ],
)
def test_flags_out_of_place_are_refused(village_cadre, status, flags, message):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    with pytest.raises(ApplicationError, match=message):
        plan_measure_progress(
            actor=village_cadre, plan_measure=repair, status=status, registry_flags=flags
        )
    assert statuses([repair]) == ["planned"]
    household = Household.objects.get(pk=repair.plan.household_id)
    assert (household.housing_secure, household.drinking_water_secure) == (False, True)


# --- registry flags: the measure page ----------------------------------------------------


def detail_url(pm: PlanMeasure) -> str:
    return reverse("assistance:measure_detail", args=[pm.pk])


def test_the_delivery_form_asks_about_the_house_and_updates_the_registry(client, village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    client.force_login(village_cadre)

    page = client.get(detail_url(repair))
    text = page.content.decode()
    assert "落实后该户住房安全是否已有保障？" in text
    assert "是，住房安全有保障" in text and "否，仍无保障" in text
    form = page.context["delivery_form"]
    assert form["housing_secure"].value() == "no"  # the registry's value now
    assert "饮水安全" not in "".join(str(field.label) for field in form.flag_fields)

    response = client.post(
        detail_url(repair),
        {
            "form": "delivery",
            "delivery-status": "delivered",
            "delivery-amount": "35000",
            "delivery-housing_secure": "yes",
        },
        follow=True,
    )

    text = response.content.decode()
    assert "已同步更新农户档案：“住房安全有保障”为“是”。" in text
    assert statuses([repair]) == ["delivered"]
    assert Household.objects.get(pk=repair.plan.household_id).housing_secure is True
    assert AuditEvent.objects.filter(
        target_type="registry.household", actor=village_cadre, action="update"
    ).exists()


def test_marking_in_progress_leaves_the_registry_alone(client, village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    client.force_login(village_cadre)
    response = client.post(
        detail_url(repair),
        {"form": "delivery", "delivery-status": "in_progress", "delivery-housing_secure": "yes"},
    )
    assert response.status_code == 302
    assert statuses([repair]) == ["in_progress"]
    assert Household.objects.get(pk=repair.plan.household_id).housing_secure is False


def test_delivering_without_an_answer_is_asked_again(client, village_cadre):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    client.force_login(village_cadre)
    response = client.post(detail_url(repair), {"form": "delivery", "delivery-status": "delivered"})
    assert response.status_code == 200
    assert response.context["delivery_form"].errors["housing_secure"] == [
        "请回答：落实后该户住房安全是否已有保障？"
    ]
    assert statuses([repair]) == ["planned"]


def test_a_measure_without_a_registry_flag_asks_nothing(client, village_cadre):
    medical = planned(monitored(), "医疗救助")[0]
    client.force_login(village_cadre)
    page = client.get(detail_url(medical))
    assert page.context["delivery_form"].flag_fields == []
    assert "是否已有保障" not in page.content.decode()


def test_a_department_officer_is_told_who_updates_the_registry(client, housing_officer):
    repair = planned(unsafe_house(), "农村危房改造")[0]
    client.force_login(housing_officer)
    page = client.get(detail_url(repair))
    text = page.content.decode()
    assert page.context["delivery_form"].flag_fields == []
    assert "“住房安全有保障”现为“否”" in text
    assert "您的角色不能修改农户档案" in text
    response = client.post(
        detail_url(repair),
        {"form": "delivery", "delivery-status": "delivered", "delivery-housing_secure": "yes"},
    )
    assert response.status_code == 302
    assert statuses([repair]) == ["delivered"]
    assert Household.objects.get(pk=repair.plan.household_id).housing_secure is False


def test_another_areas_measure_page_answers_404(client, village_cadre):
    far = planned(unsafe_house(f.VILLAGE_OTHER_TOWNSHIP), "农村危房改造")[0]
    client.force_login(village_cadre)
    response = client.post(
        detail_url(far),
        {"form": "delivery", "delivery-status": "delivered", "delivery-housing_secure": "yes"},
    )
    assert response.status_code == 404
    assert Household.objects.get(pk=far.plan.household_id).housing_secure is False
