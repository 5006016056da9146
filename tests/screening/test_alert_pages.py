"""The alert list, an alert's page with its evidence, the triage actions and the dashboard."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouwang.cases.choices import LeadChannel
from shouwang.cases.models import Lead
from shouwang.core import crypto
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from shouwang.screening.choices import AlertStatus
from shouwang.screening.models import Alert, FeedBatch
from tests import factories as f
from tests.screening.helpers import (
    ELIMINATED,
    INPATIENT,
    MEDICAL_12M,
    alerts_for,
    inpatient,
    patient,
    run,
    stage_medical,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("screening:alert_list")


@pytest.fixture(autouse=True)
def feeds_dir(settings, tmp_path):
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    settings.SHOUWANG_SCREENING_DIR = tmp_path / "screening"


def detail_url(alert: Alert) -> str:
    return reverse("screening:alert_detail", args=[alert.pk])


def listed(response) -> set[int]:
    return {a.pk for a in response.context["page"].object_list}


def text_of(response) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def three_villages():
    """An inpatient alert in 向前村 and 火炉社区 (both 火炉镇) and in 芋荷村 (凤山街道)."""
    mine = f.make_household(f.VILLAGE_A, members=1)
    neighbour = f.make_household(f.VILLAGE_B, members=1)
    far = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    alerts = alerts_for(mine, neighbour, far)
    return {
        "mine": alerts[mine.pk],
        "neighbour": alerts[neighbour.pk],
        "far": alerts[far.pk],
    }


# Jurisdiction


def test_village_cadre_lists_only_their_village(client, village_cadre, three_villages):
    client.force_login(village_cadre)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert listed(response) == {three_villages["mine"].pk}
    # One village: no township or village dropdown to choose from.
    assert "township" not in response.context["filter_form"].fields


def test_township_staff_lists_the_townships_villages(client, township_staff, three_villages):
    client.force_login(township_staff)

    assert listed(client.get(LIST_URL)) == {
        three_villages["mine"].pk,
        three_villages["neighbour"].pk,
    }


def test_another_villages_alert_answers_404_to_pages_and_actions(
    client, village_cadre, three_villages
):
    other = three_villages["neighbour"]
    client.force_login(village_cadre)

    assert client.get(detail_url(other)).status_code == 404
    for name, data in (
        ("screening:alert_dismiss", {"reason": "不是本村的人，排除"}),
        ("screening:alert_assign", {"assignee": village_cadre.pk}),
        ("alert_leads:open_lead", {"note": ""}),
    ):
        assert client.post(reverse(name, args=[other.pk]), data).status_code == 404
    other.refresh_from_db()
    assert other.status == AlertStatus.OPEN


def test_anonymous_visitors_are_sent_to_login(client, three_villages):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and "/login/" in response.url
    response = client.post(
        reverse("screening:alert_dismiss", args=[three_villages["mine"].pk]), {"reason": "xxxx"}
    )
    assert response.status_code == 302 and "/login/" in response.url


# The list


def test_rows_show_severity_rule_household_village_figures_status_and_period(
    client, district_staff, three_villages
):
    client.force_login(district_staff)
    mine = three_villages["mine"]

    response = client.get(LIST_URL, {"village": f.VILLAGE_A, "township": f.TOWNSHIP_HUOLU})

    assert listed(response) == {mine.pk}
    page = text_of(response)
    assert "单月住院自付较高" in page
    assert mine.household.household_number in page
    assert "向前村" in page and "火炉镇" in page
    assert "8000.00 ≥ 5000.00" in page
    assert "待处理" in page and "2025-09" in page
    html = response.content.decode()
    assert f'href="{reverse("registry:household_detail", args=[mine.household_id])}"' in html
    assert f'href="{detail_url(mine)}"' in html
    assert 'class="severity severity-medium"' in html


def test_people_not_in_the_registry_are_possible_new_objects_placed_by_address_or_id(
    client, district_staff
):
    stage_medical(
        [
            # The feed names the village: placed there.
            inpatient(f.next_id_number(), amount=25000, name="王五", village=f.VILLAGE_B),
            # No village in the feed: placed in the county of the ID's address code.
            inpatient(f.next_id_number(), amount=30000, name="赵六", village=None),
        ]
    )
    run()
    client.force_login(district_staff)

    response = client.get(LIST_URL, {"unregistered": "true"})

    page = text_of(response)
    assert len(listed(response)) == 2
    assert "疑似新增监测对象：王五 （按部门数据地址定位）" in page
    assert "疑似新增监测对象：赵六 （按身份证地址码定位）" in page
    assert "武隆区 （未定位到村）" in page
    assert client.get(LIST_URL, {"unregistered": "false"}).context["page"].paginator.count == 0


def test_alerts_of_risk_eliminated_households_say_monitoring_continues(client, district_staff):
    eliminated = f.make_household(members=1, **ELIMINATED)
    ordinary = f.make_household(members=1)
    alerts = alerts_for(eliminated, ordinary)
    client.force_login(district_staff)

    response = client.get(LIST_URL)
    rows = {a.pk: a.after_elimination for a in response.context["page"].object_list}
    assert rows == {alerts[eliminated.pk].pk: True, alerts[ordinary.pk].pk: False}
    assert text_of(response).count("风险消除后继续监测") == 1
    assert "风险消除后继续监测" in text_of(client.get(detail_url(alerts[eliminated.pk])))
    assert "风险消除后继续监测" not in text_of(client.get(detail_url(alerts[ordinary.pk])))


def test_filters_by_rule_severity_status_risk_source_township_and_village(
    client, district_staff, three_villages
):
    # A second rule fires for 向前村's household only: 12,000 over 12 months ≥ 11,559.50.
    mine = three_villages["mine"]
    stage_medical([inpatient(patient(mine.household, name="张梅"), amount=12000)])
    run(MEDICAL_12M)
    twelve_months = Alert.objects.get(rule__slug=MEDICAL_12M)
    three_villages["far"].status = AlertStatus.DISMISSED
    three_villages["far"].save()
    inpatient_ids = {a.pk for a in three_villages.values()}
    client.force_login(district_staff)

    def ids(**params):
        return listed(client.get(LIST_URL, params))

    # The 12-month sum rests on 向前村's stay too: one item with the in-patient alert, listed
    # once under the older alert, unless a filter keeps only the 12-month one.
    assert twelve_months.triage_group == mine.triage_group
    assert ids() == inpatient_ids
    assert ids(rule=MEDICAL_12M) == {twelve_months.pk}
    assert ids(rule=INPATIENT) == inpatient_ids
    assert ids(severity="high") == {twelve_months.pk}
    assert ids(severity="medium") == inpatient_ids
    assert ids(status="dismissed") == {three_villages["far"].pk}
    assert ids(status="unresolved") == inpatient_ids - {three_villages["far"].pk}
    assert ids(risk_type="illness") == inpatient_ids
    assert ids(risk_type="disability") == set()
    assert ids(source="medical") == inpatient_ids
    assert ids(source="disability") == set()
    assert ids(township=f.TOWNSHIP_HUOLU) == {mine.pk, three_villages["neighbour"].pk}
    assert ids(township=f.TOWNSHIP_HUOLU, village=f.VILLAGE_B) == {three_villages["neighbour"].pk}
    assert ids(period="2025-09", household=mine.household_id) == {mine.pk}


def test_district_users_choose_a_township_before_villages(client, district_staff, three_villages):
    client.force_login(district_staff)

    form = client.get(LIST_URL).context["filter_form"]
    assert "village" not in form.fields
    townships = [code for code, _label in form.fields["township"].widget.choices if code]
    assert f.TOWNSHIP_HUOLU in townships

    form = client.get(LIST_URL, {"township": f.TOWNSHIP_HUOLU}).context["filter_form"]
    villages = [code for code, _label in form.fields["village"].widget.choices if code]
    assert f.VILLAGE_A in villages and f.VILLAGE_B in villages
    assert f.VILLAGE_OTHER_TOWNSHIP not in villages


def test_htmx_filtering_returns_the_results_and_the_village_dropdown(
    client, district_staff, three_villages
):
    client.force_login(district_staff)

    response = client.get(LIST_URL, {"township": f.TOWNSHIP_HUOLU}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert 'id="village-filter" hx-swap-oob="true"' in html
    assert "<html" not in html


def test_list_query_count_does_not_grow_with_rows(client, district_staff, settings):
    settings.SHOUWANG_PAGE_SIZE = 25
    client.force_login(district_staff)
    alerts_for(f.make_household(members=1))
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(LIST_URL).context["page"].object_list) == 1
    eliminated = [f.make_household(f.VILLAGE_B, members=1, **ELIMINATED) for _ in range(3)]
    others = [f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1) for _ in range(3)]
    alerts_for(*eliminated, *others)
    stage_medical([inpatient(f.next_id_number(), amount=25000, village=f.VILLAGE_A)])
    run()
    with CaptureQueriesContext(connection) as eight:
        assert len(client.get(LIST_URL).context["page"].object_list) == 8

    assert len(eight) == len(one)
    assert len(one) <= 10, [q["sql"] for q in one.captured_queries]


# The alert's page


def test_detail_shows_the_comparison_the_threshold_source_and_the_evidence_rows(
    client, district_staff
):
    household = f.make_household(members=1)
    id_number = patient(household, name="李四")
    batch = stage_medical(
        [
            inpatient(f.next_id_number(), amount=100, name="别人", village=f.VILLAGE_B),
            inpatient(id_number, amount=12000, name="李四", village=f.VILLAGE_A),
        ]
    )
    run(MEDICAL_12M)
    alert = Alert.objects.get(household=household)
    client.force_login(district_staff)

    response = client.get(detail_url(alert))

    assert response.status_code == 200
    page = text_of(response)
    assert "近12个月医疗自付费用较高（第 1 版）" in page
    assert "近 12 个月内按户取“个人自付金额”的合计" in page
    assert "2024-10-01 至 2025-09-30" in page
    assert "12000.00 ≥ 11559.50" in page
    assert "上年（2024 年）农村居民人均可支配收入 × 50%" in page
    assert "脱贫户（未纳入监测）" in page
    # The household's summary.
    assert household.household_number in page and "脱贫户" in page
    # The evidence: the batch, its source and file, the row, under the department's headers.
    assert f"导入批次 #{batch.pk} · 医保局医疗费用结算数据" in page
    assert batch.file_name in page
    evidence = response.context["evidence"].batches
    assert [row for row, _cells in evidence[0].rows] == [3]  # line 3: the second data row
    cells = dict(evidence[0].rows[0][1])
    assert cells["姓名"] == "李四"
    assert cells["就诊类别"] == "住院"
    assert cells["个人自付金额"] == "12000.00"
    assert {"医疗总费用", "报销金额", "个人自付金额"} == evidence[0].numeric_headers
    assert cells["结算日期"] == "2025-09-03"
    assert cells["所在村（社区）"].startswith("火炉镇 向前村")
    assert "别人" not in page  # another person's row of the same file is not read
    # Never an ID number, nor its blind index.
    html = response.content.decode()
    assert id_number not in html and id_number[:6] + "********" not in html
    assert crypto.blind_index(id_number) not in html


def test_unregistered_alert_names_the_threshold_for_people_outside_the_registry(
    client, district_staff
):
    stage_medical([inpatient(f.next_id_number(), amount=30000, name="王五", village=f.VILLAGE_A)])
    run(MEDICAL_12M)
    alert = Alert.objects.get()
    client.force_login(district_staff)

    page = text_of(client.get(detail_url(alert)))

    assert "30000.00 ≥ 23119.00" in page
    assert "上年（2024 年）农村居民人均可支配收入（未在册人员适用的标准）" in page
    assert "疑似新增监测对象" in page and "王五" in page and "部门数据地址" in page


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("unlink", "该批次的暂存文件已不存在，无法显示其中的 1 行"),
        ("garble", "该批次的暂存文件无法读取，无法显示其中的 1 行"),
        ("delete", "已删除，无法显示其中的 1 行"),
    ],
)
def test_evidence_that_cannot_be_read_is_reported_not_fatal(
    client, district_staff, damage, message
):
    household = f.make_household(members=1)
    alert = alerts_for(household)[household.pk]
    batch = FeedBatch.objects.get(pk=alert.evidence["rows"][0][0])
    path = Path(batch.parquet_path)
    if damage == "unlink":
        path.unlink()
    elif damage == "garble":
        path.write_bytes(b"not a parquet file")
    else:
        batch.delete()
    client.force_login(district_staff)

    response = client.get(detail_url(alert))

    assert response.status_code == 200
    assert message in text_of(response)
    assert "8000.00 ≥ 5000.00" in text_of(response)  # the comparison still shows


def test_detail_query_count_does_not_grow_with_evidence_rows(client, district_staff):
    small = f.make_household(members=1)
    large = f.make_household(members=1)
    one_claim = patient(small)
    many = [patient(large, name=f"成员{i}") for i in range(6)]
    stage_medical([inpatient(one_claim, amount=12000)] + [inpatient(i, amount=3000) for i in many])
    # A second batch behind the same alert, so rows come from two files.
    stage_medical([inpatient(many[0], amount=2000)])
    run(MEDICAL_12M)
    client.force_login(district_staff)
    small_alert = Alert.objects.get(household=small)
    large_alert = Alert.objects.get(household=large)

    with CaptureQueriesContext(connection) as one_row:
        client.get(detail_url(small_alert))
    with CaptureQueriesContext(connection) as seven_rows:
        response = client.get(detail_url(large_alert))

    assert response.context["evidence"].shown == 7
    assert len(response.context["evidence"].batches) == 2
    assert len(seven_rows) == len(one_row)


# Actions


def test_dismiss_with_a_reason(client, village_cadre, three_villages):
    alert = three_villages["mine"]
    client.force_login(village_cadre)

    response = client.post(
        reverse("screening:alert_dismiss", args=[alert.pk]),
        {"reason": "已核实，大病保险报销后自付不足两千元"},
    )

    assert response.status_code == 302 and response.url == detail_url(alert)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert alert.resolution_note == "已核实，大病保险报销后自付不足两千元"
    assert alert.decided_by == village_cadre
    event = AuditEvent.objects.get(target_type="screening.alert", target_id=str(alert.pk))
    assert event.extra["verb"] == "dismiss"
    page = text_of(client.get(detail_url(alert)))
    assert "已排除该预警。" in page
    assert "村干部甲 排除 → 已排除" in page
    assert "已核实，大病保险报销后自付不足两千元" in page
    assert "确认排除" not in page  # a decided alert offers no actions


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "请填写排除理由"), ("不对", "请填写排除理由（至少 4 个字）")],
)
def test_dismiss_without_a_proper_reason_is_refused_and_keeps_the_input(
    client, village_cadre, three_villages, reason, message
):
    alert = three_villages["mine"]
    client.force_login(village_cadre)

    response = client.post(reverse("screening:alert_dismiss", args=[alert.pk]), {"reason": reason})

    assert response.status_code == 200
    assert message in text_of(response)
    assert response.context["open_action"] == "dismiss"
    assert response.context["dismiss_form"]["reason"].value() == reason
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(target_type="screening.alert").exists()


def test_department_officers_see_alerts_but_cannot_act(client, department_officer, three_villages):
    alert = three_villages["mine"]
    client.force_login(department_officer)

    response = client.get(detail_url(alert))
    assert response.status_code == 200
    assert "确认排除" not in text_of(response)
    assert "您的角色只能查看预警" in text_of(response)

    for name, data in (
        ("screening:alert_dismiss", {"reason": "部门认为无风险"}),
        ("alert_leads:open_lead", {"note": ""}),
    ):
        response = client.post(reverse(name, args=[alert.pk]), data)
        assert response.status_code == 403
        assert "您的角色不能处理预警" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_actions_answer_only_post(client, village_cadre, three_villages):
    client.force_login(village_cadre)
    for name in ("screening:alert_dismiss", "screening:alert_assign", "alert_leads:open_lead"):
        assert client.get(reverse(name, args=[three_villages["mine"].pk])).status_code == 405


def test_assign_to_a_grid_member_of_the_village(client, township_staff, three_villages):
    alert = three_villages["mine"]
    grid = f.make_user("grid-a", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="网格员乙")
    f.make_user("grid-b", Role.VILLAGE_CADRE, [f.VILLAGE_B], display_name="网格员丙")
    client.force_login(township_staff)

    # Everyone in the actor's area who may take the alert, village cadres first; not the
    # cadre of the next village.
    form = client.get(detail_url(alert)).context["assign_form"]
    assert list(form.fields["assignee"].queryset) == [grid, township_staff]

    response = client.post(
        reverse("screening:alert_assign", args=[alert.pk]),
        {"assignee": grid.pk, "note": "请本周内入户核实"},
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ASSIGNED and alert.assigned_to == grid
    page = text_of(client.get(detail_url(alert)))
    assert "已交办给 网格员乙 入户核实。" in page
    assert "交办给 ：网格员乙" in page
    # Still unresolved: the grid member may dismiss it after the visit.
    assert "确认排除" in page


def test_assign_to_someone_outside_the_village_is_refused(client, township_staff, three_villages):
    alert = three_villages["mine"]
    f.make_user("grid-a", Role.VILLAGE_CADRE, [f.VILLAGE_A])
    elsewhere = f.make_user("grid-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    client.force_login(township_staff)

    response = client.post(
        reverse("screening:alert_assign", args=[alert.pk]),
        {"assignee": elsewhere.pk, "note": "请核实"},
    )

    assert response.status_code == 200
    assert "只能指派给您管辖范围内可处理该预警的用户" in text_of(response)
    assert response.context["assign_form"]["note"].value() == "请核实"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.assigned_to is None


def test_alerts_not_placed_in_a_village_cannot_be_assigned(client, district_staff):
    stage_medical([inpatient(f.next_id_number(), amount=30000, name="赵六", village=None)])
    run()
    alert = Alert.objects.get()
    client.force_login(district_staff)

    assert "该预警尚未定位到村，不能交办" in text_of(client.get(detail_url(alert)))


def test_open_a_lead(client, district_staff, three_villages):
    alert = three_villages["far"]
    client.force_login(district_staff)

    response = client.post(
        reverse("alert_leads:open_lead", args=[alert.pk]), {"note": "需入户走访核实收入"}
    )

    # The lead is created with the alert as its source, and its page opens.
    lead = Lead.objects.get(alert=alert)
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead_detail", args=[lead.pk])
    assert (lead.channel, lead.household, lead.description) == (
        LeadChannel.DEPARTMENT_ALERT,
        alert.household,
        "需入户走访核实收入",
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.LEAD_OPENED
    assert alert.resolution_note == "需入户走访核实收入"
    assert "已将该预警转为线索" in text_of(client.get(response["Location"]))
    # The alert's page links to the lead it became.
    page = client.get(reverse("screening:alert_detail", args=[alert.pk])).content.decode()
    assert reverse("leads:lead_detail", args=[lead.pk]) in page


def test_a_decided_alert_refuses_another_decision_with_the_reason(
    client, district_staff, three_villages
):
    alert = three_villages["far"]
    client.force_login(district_staff)
    client.post(reverse("screening:alert_dismiss", args=[alert.pk]), {"reason": "重复上报，排除"})

    # A second tab still shows the actions; its post is answered with the service's refusal.
    response = client.post(reverse("alert_leads:open_lead", args=[alert.pk]), {"note": "走访"})

    assert response.status_code == 200
    assert "该预警已处理（已排除），不能再转为线索" in text_of(response)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED


# Dashboard and navigation


def test_home_counts_unresolved_alerts_by_village_and_rule(client, township_staff, three_villages):
    three_villages["neighbour"].status = AlertStatus.DISMISSED
    three_villages["neighbour"].save()
    client.force_login(township_staff)

    response = client.get(reverse("home"))

    by_village = {r["division__code"]: r["total"] for r in response.context["alerts_by_village"]}
    assert by_village == {f.VILLAGE_A: 1}  # 火炉社区's is dismissed; 芋荷村 is another township
    by_rule = {r["rule__slug"]: r["total"] for r in response.context["alerts_by_rule"]}
    assert by_rule == {INPATIENT: 1}
    html = response.content.decode()
    assert "预警概况" in html
    assert (
        f"{LIST_URL}?status=unresolved&amp;township={f.TOWNSHIP_HUOLU}&amp;village={f.VILLAGE_A}"
        in html
    )
    assert f"{LIST_URL}?status=unresolved&amp;rule={INPATIENT}" in html
    # The link leads to the same alerts the count says.
    linked = client.get(
        LIST_URL, {"status": "unresolved", "township": f.TOWNSHIP_HUOLU, "village": f.VILLAGE_A}
    )
    assert listed(linked) == {three_villages["mine"].pk}


def test_navigation_offers_alerts_to_all_and_runs_to_county_staff(
    client, village_cadre, district_staff
):
    client.force_login(village_cadre)
    html = client.get(LIST_URL).content.decode()
    assert f'href="{LIST_URL}" aria-current="page"' in html
    assert reverse("screening:run_list") not in html

    client.force_login(district_staff)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{LIST_URL}"' in html
    assert f'href="{reverse("screening:run_list")}"' in html


def test_amounts_are_exact(client, district_staff):
    household = f.make_household(members=1)
    stage_medical([inpatient(patient(household), amount="5000.01")])
    run()
    alert = Alert.objects.get()
    assert alert.value == Decimal("5000.01")
    client.force_login(district_staff)
    assert "5000.01 ≥ 5000.00" in text_of(client.get(LIST_URL))


def test_list_puts_the_latest_period_first_then_high_severity(client, district_staff):
    households = [f.make_household(village=f.VILLAGE_A) for _ in range(4)]
    alerts = alerts_for(*households)
    low, medium, high, older = (alerts[h.pk].pk for h in households)
    Alert.objects.filter(pk=low).update(severity="low")
    Alert.objects.filter(pk=high).update(severity="high")
    Alert.objects.filter(pk=older).update(severity="high", period="2025-08")
    client.force_login(district_staff)
    html = client.get(reverse("screening:alert_list")).content.decode()
    shown = [int(pk) for pk in re.findall(r'href="/screening/alerts/(\d+)/"', html)]
    assert [pk for pk in shown if pk in (low, medium, high, older)] == [high, medium, low, older]
