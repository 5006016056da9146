"""A household applies from a phone with no account, keeps its tracking code and looks up its
status; the village cadre then finds the application in the leads inbox and opens it.

Screenshots of the application page, its result page, the status page, the inbox and the
lead's page at phone and desktop width go to var/screenshots/leads-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache

from shouwang.cases.choices import LeadChannel
from shouwang.cases.models import Lead
from shouwang.cases.services import lead_create
from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from tests import factories as f
from tests.browser.case_helpers import fill_application
from tests.browser.conftest import VIEWPORTS

PASSWORD = "cadre-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def village(committed_divisions):
    """The 向前村 cadre, and two leads already in the inbox (one with a merged report)."""
    cache.clear()  # the rate limits count in the process's cache
    cadre = f.make_user("cadre-xq", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉支书")
    cadre.set_password(PASSWORD)
    cadre.save()
    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    for channel, text in (
        (LeadChannel.HOME_VISIT, "走访发现户主脑梗住院，妻子务工收入中断"),
        (LeadChannel.WHISTLEBLOWER, "邻居反映其家中无人照看老人"),
    ):
        lead_create(
            actor=cadre,
            channel=channel,
            division=household.village,
            household=household,
            description=text,
            received_on=dt.date(2026, 11, 2),
        )
    yield cadre
    cache.clear()


def test_a_household_applies_from_a_phone_and_the_cadre_sees_it(live_server, browser, village):  # noqa: F811
    from playwright.sync_api import expect

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)

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
        page.goto(f"{live_server.url}/apply/")
        expect(page.locator("h1")).to_contain_text("农户自主申报")
        expect(page.locator(".site-nav")).to_have_count(0)

        # Submitting empty: every problem is named, in Chinese.
        page.get_by_role("button", name="提交申请").click()
        expect(page.locator(".alert-error")).to_contain_text("请按提示修改标红的项目")
        expect(page.locator("main")).to_contain_text("请选择所在乡镇（街道）")
        expect(page.locator("main")).to_contain_text("请阅读并勾选承诺")

        # On a fresh page the township narrows the village list (htmx, checked there); the
        # form is filled in.
        page.goto(f"{live_server.url}/apply/")
        fill_application(
            page,
            name="李秀兰" if index == 0 else "王桂芳",
            id_number=f.next_id_number(male=False),
            phone="13812345678",
            description="丈夫 10 月车祸住院，花了 6 万多，家里没有了收入，孩子还在上高中",
        )
        assert missing_assets == [], "a style sheet or htmx was not served"
        page.screenshot(path=shots / f"leads-apply-{width}.png", full_page=True)

        page.get_by_role("button", name="提交申请").click()
        expect(page).to_have_url(f"{live_server.url}/apply/done/")
        code = Lead.objects.filter(channel=LeadChannel.SELF_APPLICATION).latest("id").tracking_code
        expect(page.locator(".tracking-code")).to_have_text(code)
        page.screenshot(path=shots / f"leads-apply-done-{width}.png", full_page=True)

        # The status page: received, and nothing personal.
        page.get_by_role("link", name="查看办理进度").click()
        page.fill("#id_tracking_code", code.lower())
        page.get_by_role("button", name="查询").click()
        expect(page.locator(".status-result")).to_contain_text("已收到申请")
        expect(page.locator("main")).not_to_contain_text("李秀兰")
        expect(page.locator("main")).not_to_contain_text("向前村")
        page.screenshot(path=shots / f"leads-status-{width}.png", full_page=True)
        context.close()

        # The village cadre finds the application in the inbox.
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{live_server.url}/login/?next=/leads/")
        page.fill("#id_username", "cadre-xq")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{live_server.url}/leads/")
        rows = page.locator("#results tbody tr:not(.merged-row)")
        expect(rows).to_have_count(2 + index)
        expect(page.locator("#results")).to_contain_text("农户自主申报")
        expect(page.locator(".merged-row")).to_contain_text("吹哨人报告")
        page.screenshot(path=shots / f"leads-inbox-{width}.png", full_page=True)

        lead = Lead.objects.get(tracking_code=code)
        page.get_by_role("link", name=f"#{lead.pk}", exact=True).click()
        expect(page.locator("h1")).to_contain_text("李秀兰" if index == 0 else "王桂芳")
        expect(page.locator("main")).to_contain_text("已承诺如实申报")
        expect(page.locator("main")).to_contain_text(lead.id_number_masked)
        page.screenshot(path=shots / f"leads-lead-{width}.png", full_page=True)
        if index == len(VIEWPORTS) - 1:
            # The application becomes an identification case that starts at the home visit:
            # the household's pledge and consent are its step 2 (the six steps continue as
            # in tests/browser/test_cases.py).
            page.get_by_role("button", name="启动识别").click()
            expect(page.locator("h1")).to_contain_text("监测对象识别")
            expect(page.locator(".step-current")).to_contain_text("入户核实")
            expect(page.locator("main")).to_contain_text("农户自主申报（查询码")
            case = lead.cases.get()
            assert case.transitions.get().verb == "apply"
        context.close()
