"""Coverage and consistency in a real browser: the home card, the county's per-township
table, a township's villages, a problem list and the Excel download, at phone and desktop
width.

Screenshots go to var/screenshots/coverage-*.png.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from tests import factories as f
from tests.assistance.test_coverage import _monitored, _plan
from tests.browser.conftest import VIEWPORTS

PASSWORD = "coverage-password-1"
L = rc.LabourSkill
R = rc.RiskType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def county(committed_divisions):
    users = {
        "district": f.make_user(
            "district-cov", Role.DISTRICT_STAFF, [f.COUNTY_WULONG], display_name="区乡村振兴局"
        ),
        "cadre": f.make_user(
            "cadre-cov", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉村干部"
        ),
    }
    for user in users.values():
        user.set_password(PASSWORD)
        user.save()
    fine = _monitored(f.VILLAGE_A, (R.ILLNESS,), (L.ORDINARY, L.LOST))
    _plan(fine, "医疗救助", "技能培训", delivered=("医疗救助",))
    backstop = _monitored(f.VILLAGE_A, (R.SCHOOLING, R.HOUSING), (L.SKILLED,))
    _plan(backstop, "低保")
    _monitored(f.VILLAGE_A, (R.UNSTABLE_EMPLOYMENT,), (L.LOST, L.NONE))
    water = _monitored(f.VILLAGE_B, (R.DRINKING_WATER,), (L.ORDINARY,))
    _plan(water, "农村供水工程改造", "公益性岗位")
    _monitored(f.VILLAGE_OTHER_TOWNSHIP, (R.ILLNESS,), (L.ORDINARY,))
    return users


def _login(browser, live_server, username, width, height):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_district_staff_read_coverage_from_county_to_household(live_server, browser, county):
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for width, height in VIEWPORTS:
        context, page = _login(browser, live_server, "district-cov", width, height)

        card = page.locator(".coverage-card")
        assert "60.0%" in card.inner_text()  # 3 of 5 households with a plan
        page.screenshot(path=shots / f"coverage-home-{width}.png", full_page=True)

        card.get_by_role("link", name="查看各区域").click()
        page.wait_for_url(f"{live_server.url}/assistance/coverage/")
        assert page.locator("table.coverage tbody tr").count() > 20  # every township
        assert page.locator(".section-tabs a[aria-current='page']").inner_text() == "覆盖情况"
        page.screenshot(path=shots / f"coverage-overview-{width}.png", full_page=True)

        page.get_by_role("link", name="火炉镇").click()
        page.wait_for_url(f"**/assistance/coverage/?township={f.TOWNSHIP_HUOLU}")
        assert "向前村" in page.locator("table.coverage").inner_text()
        page.screenshot(path=shots / f"coverage-township-{width}.png", full_page=True)

        page.locator(".problem-card", has_text="风险无对应措施").click()
        page.wait_for_url("**/assistance/coverage/problems/uncovered/**")
        body = page.locator("main").inner_text()
        assert "缺少对应措施的风险：因学、因安全住房" in body
        page.screenshot(path=shots / f"coverage-problems-{width}.png", full_page=True)

        if width > 1000:
            page.go_back()
            with page.expect_download() as download_info:
                page.get_by_role("button", name="导出 Excel").click()
            download = download_info.value
            assert download.suggested_filename.endswith(".xlsx")
            book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
            assert "风险无对应措施" in book.sheetnames
        context.close()


def test_a_village_cadre_sees_their_village_at_phone_width(live_server, browser, county):
    shots = settings.VAR_DIR / "screenshots"
    width, height = VIEWPORTS[0]
    context, page = _login(browser, live_server, "cadre-cov", width, height)
    page.goto(f"{live_server.url}/assistance/coverage/?unresolved=1")
    rows = page.locator("table.coverage tbody tr")
    assert rows.count() == 1 and "向前村" in rows.first.inner_text()
    # Nothing wider than the phone: the table turns into cards.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=shots / f"coverage-village-{width}.png", full_page=True)
    context.close()
