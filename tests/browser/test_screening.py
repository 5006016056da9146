"""District staff in a real browser: upload a department file, run the data comparison, read an
alert's evidence, dismiss another alert.

The 医保局's month of claims for 武隆区 comes as a GB18030 CSV (a patient of a known household
in 向前村, neighbours with smaller stays, a person not in the registry). The staff member
uploads it, runs screening from the runs page, opens the known household's alert and its feed
rows, and dismisses a neighbour's alert with a reason. Screenshots of the runs page, the alert
list, the alert page and the dashboard at phone and desktop width go to var/screenshots/.
"""

import csv
import re
from decimal import Decimal

import pytest
from django.conf import settings

from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from shouwang.screening.choices import AlertStatus, BatchStatus
from shouwang.screening.models import Alert, FeedBatch, ScreeningRun
from tests import factories as f
from tests.browser.conftest import VIEWPORTS
from tests.screening.helpers import PERIOD, patient

PASSWORD = "district-password-1"
MEDICAL_12M_NAME = "近12个月医疗自付费用较高"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


#: The medical source's headers, as the 医保局 names them in its monthly export.
MEDICAL_HEADERS = [
    "身份证号码", "姓名", "结算日期", "就诊类别", "医疗总费用", "报销金额", "个人自付金额",
    "主要诊断", "所在村（社区）",
]  # fmt: skip


def claim(id_number: str, name: str, out_of_pocket: int, diagnosis: str, village: str) -> list:
    return [
        id_number, name, "2025-09-03", "住院", out_of_pocket * 3, out_of_pocket * 2,
        out_of_pocket, diagnosis, village,
    ]  # fmt: skip


@pytest.fixture
def medical_month(committed_divisions, settings, tmp_path):
    """District staff, three households of 火炉镇 and the 医保局's file for the month (GB18030)."""
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    settings.SHOUWANG_SCREENING_DIR = tmp_path / "screening"
    staff = f.make_user(
        "district-ran", Role.DISTRICT_STAFF, [f.COUNTY_WULONG], display_name="冉区县"
    )
    staff.set_password(PASSWORD)
    staff.save()
    known = f.make_household(
        members=3,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202403",
        risk_type_1=rc.RiskType.ILLNESS,
    )
    neighbours = [f.make_household(f.VILLAGE_B, members=2) for _ in range(2)]
    rows = [
        claim(patient(known, name="冉光明"), "冉光明", 15000, "慢性肾功能衰竭", "火炉镇向前村"),
        claim(patient(known, name="冉秀英"), "冉秀英", 800, "高血压", "火炉镇向前村"),
    ]
    rows += [
        claim(patient(h, name=f"陈{i}"), f"陈{i}", 6000, "脑梗死", "火炉镇火炉社区")
        for i, h in enumerate(neighbours)
    ]
    rows.append(claim(f.next_id_number(), "王五", 26000, "肺癌", "火炉镇火炉社区"))
    upload = tmp_path / "医保结算明细-2025年9月.csv"
    with upload.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MEDICAL_HEADERS)
        writer.writerows(rows)
    return {"staff": staff, "known": known, "neighbours": neighbours, "file": upload}


def test_district_staff_runs_screening_reads_evidence_and_dismisses_an_alert(
    live_server, browser, medical_month
):
    from playwright.sync_api import expect

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    known = medical_month["known"]

    for index, (width, height) in enumerate(VIEWPORTS):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        missing_assets: list[str] = []
        page.on(
            "response",
            lambda r, found=missing_assets: (
                r.status >= 400 and "/static/" in r.url and found.append(r.url)
            ),
        )
        page.goto(f"{live_server.url}/login/?next=/screening/feeds/upload/")
        page.fill("#id_username", "district-ran")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{live_server.url}/screening/feeds/upload/")
        assert missing_assets == [], "a style sheet or htmx was not served"

        # Upload the 医保局's GB18030 file; the second time the same file is recognised.
        page.select_option("#id_source", "medical")
        page.fill("#id_period", PERIOD)
        page.set_input_files("#id_file", medical_month["file"])
        page.get_by_role("button", name="上传并导入").click()
        if index == 0:
            expect(page).to_have_url(re.compile(r"/screening/feeds/batches/\d+/$"))
            expect(page.locator("main")).to_contain_text("已入库")
            batch = FeedBatch.objects.get()
            assert (batch.status, batch.rows_accepted, batch.rows_rejected) == (
                BatchStatus.STAGED,
                5,
                0,
            )
        else:
            expect(page.locator("main")).to_contain_text("不再重复导入")
            assert FeedBatch.objects.count() == 1

        page.goto(f"{live_server.url}/screening/runs/")

        # Run the comparison from the page; the period defaults to the staged month.
        expect(page.locator("#id_period")).to_have_value(PERIOD)
        page.get_by_role("button", name="运行数据比对").click()
        expect(page).to_have_url(re.compile(r"/screening/runs/\d+/$"))
        expect(page.locator("#run-status")).to_contain_text("已完成")
        runs = ScreeningRun.objects.order_by("id")
        if index == 0:
            assert runs.last().alerts_new > 0
        else:
            # The same data again: nothing new, the earlier alerts are recognised.
            assert runs.last().alerts_new == 0 and runs.last().alerts_existing > 0
        page.get_by_role("link", name="数据比对", exact=True).first.click()
        expect(page.locator("#runs tbody tr")).to_have_count(index + 1)
        assert missing_assets == []
        page.screenshot(path=shots / f"screening-runs-{width}.png", full_page=True)

        # The alert list: the known household's 12-month medical alert, among others.
        page.get_by_role("link", name="预警", exact=True).click()
        expect(page).to_have_url(f"{live_server.url}/screening/alerts/")
        rows = page.locator("#results tbody tr")
        # One row per triage item: alerts of one household on the same stay share a row.
        items = Alert.objects.values("triage_group").distinct().count()
        assert items < Alert.objects.count()
        expect(rows).to_have_count(items)
        expect(page.locator("#results")).to_contain_text("疑似新增监测对象：王五")
        assert missing_assets == []
        page.screenshot(path=shots / f"screening-alerts-{width}.png", full_page=True)

        known_row = rows.filter(has_text=known.household_number).filter(has_text=MEDICAL_12M_NAME)
        expect(known_row).to_have_count(1)
        known_row.get_by_role("link", name=MEDICAL_12M_NAME).click()
        expect(page.locator("h1")).to_contain_text(MEDICAL_12M_NAME)
        expect(page.locator("main")).to_contain_text("上年（2024 年）农村居民人均可支配收入 × 50%")
        evidence = page.locator("table.evidence tbody tr")
        expect(evidence).to_have_count(2)  # both members' stays count for the household
        expect(evidence.first).to_contain_text("冉光明")
        expect(evidence.first).to_contain_text("慢性肾功能衰竭")
        expect(evidence.first).to_contain_text("15000.00")
        expect(page.locator("main")).to_contain_text(medical_month["file"].name)
        page.screenshot(path=shots / f"screening-alert-{width}.png", full_page=True)

        # Dismiss one neighbour's alert (a different one at each width) with a reason.
        neighbour = medical_month["neighbours"][index]
        target = Alert.objects.get(household=neighbour)
        page.goto(f"{live_server.url}/screening/alerts/{target.pk}/")
        page.get_by_text("排除预警", exact=True).click()
        page.get_by_label("排除理由").fill("已入户核实：费用已由医疗救助报销，家庭收入稳定")
        page.screenshot(path=shots / f"screening-dismiss-form-{width}.png", full_page=True)
        page.get_by_role("button", name="确认排除").click()
        expect(page.locator(".messages")).to_contain_text("已排除该预警。")
        expect(page.locator("main")).to_contain_text("已入户核实：费用已由医疗救助报销")
        target.refresh_from_db()
        assert target.status == AlertStatus.DISMISSED
        assert target.decided_by == medical_month["staff"]
        page.screenshot(path=shots / f"screening-dismissed-{width}.png", full_page=True)

        # The dashboard counts what is left to do, by village and by rule.
        page.get_by_role("link", name="首页", exact=True).click()
        overview = page.locator(".home-alerts")
        expect(overview).to_contain_text("预警概况")
        expect(overview).to_contain_text("近12个月医疗自付费用较高")
        page.screenshot(path=shots / f"screening-home-{width}.png", full_page=True)
        context.close()

    assert Alert.objects.get(household=known, rule__slug="medical-out-of-pocket-12m").value == (
        Decimal("15800.00")
    )
