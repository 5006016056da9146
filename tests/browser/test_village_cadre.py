"""A village cadre's day in a real browser: log in, filter, open a household, stay in the village.

Drives Debian's Chromium through Playwright against pytest-django's live server, and leaves
screenshots of every page at phone and desktop width in var/screenshots/ for a human to look at.
"""

import re

import pytest
from django.conf import settings

from shouwang.core.choices import Role
from shouwang.registry import choices as c
from tests import factories as f
from tests.browser.conftest import VIEWPORTS

PASSWORD = "cadre-password-1"
MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[\dX]")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cadre_area(committed_divisions):
    """A cadre of 向前村 with three households there, and one household in another township."""
    cadre = f.make_user(
        "cadre-xiangqian", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉村干部"
    )
    cadre.set_password(PASSWORD)
    cadre.save()
    mine = [
        f.make_household(members=3),
        f.make_household(members=2, household_type=c.HouseholdType.ORDINARY),
        f.make_household(
            members=4,
            household_type=c.HouseholdType.MONITORED,
            monitoring_category=c.MonitoringCategory.MARGINAL,
            monitoring_status=c.MonitoringStatus.RISK_UNRESOLVED,
            identified_month="202403",
            risk_type_1=c.RiskType.ILLNESS,
            risk_type_2=c.RiskType.UNSTABLE_EMPLOYMENT,
        ),
    ]
    other = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=2)
    return {"cadre": cadre, "mine": mine, "other": other}


def test_village_cadre_filters_opens_a_household_and_cannot_leave_the_village(
    live_server, browser, cadre_area
):
    from playwright.sync_api import expect

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    monitored = cadre_area["mine"][2]

    for width, height in VIEWPORTS:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        missing_assets: list[str] = []
        page.on(
            "response",
            lambda r, found=missing_assets: (
                r.status >= 400 and "/static/" in r.url and found.append(r.url)
            ),
        )

        page.goto(f"{live_server.url}/households/")
        expect(page).to_have_url(re.compile(r"/login/\?next=/households/$"))
        page.screenshot(path=shots / f"login-{width}.png", full_page=True)
        assert missing_assets == [], "stylesheet or htmx not served"
        page.fill("#id_username", "cadre-xiangqian")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{live_server.url}/households/")

        page.goto(f"{live_server.url}/")
        expect(page.locator("h1")).to_contain_text("冉村干部")
        expect(page.locator(".figure-value").first).to_have_text("3")
        page.screenshot(path=shots / f"home-{width}.png", full_page=True)

        page.get_by_role("link", name="农户档案").click()
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(3)
        expect(page.locator("#results")).not_to_contain_text(cadre_area["other"].household_number)
        page.screenshot(path=shots / f"list-{width}.png", full_page=True)

        # The filter form swaps in the results with htmx and keeps the filter in the address.
        page.select_option("#id_household_type", c.HouseholdType.MONITORED.value)
        expect(page).to_have_url(re.compile(r"household_type=monitored"))
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(monitored.household_number)
        expect(rows.first).to_contain_text("边缘易致贫户")

        rows.first.get_by_role("link", name=monitored.household_number).click()
        expect(page).to_have_url(f"{live_server.url}/households/{monitored.pk}/")
        members = page.locator("table.members tbody tr")
        expect(members).to_have_count(4)
        assert MASKED_ID.search(members.first.inner_text())
        expect(page.get_by_text("显示完整号码")).to_have_count(0)
        page.screenshot(path=shots / f"household-{width}.png", full_page=True)

        response = page.goto(f"{live_server.url}/households/{cadre_area['other'].pk}/")
        assert response is not None and response.status == 404
        context.close()
