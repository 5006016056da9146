"""Routine work in a real browser: a township sees which villages missed their monthly
meeting and how a campaign progresses; a village cadre records the month's meeting from the
generated agenda, a quarterly review and a campaign check with a birth.

Screenshots at phone and desktop width go to var/screenshots/routines-*.png.
"""

import datetime as dt

import pytest
from django.conf import settings

from shouwang.cases.choices import LeadChannel
from shouwang.cases.models import CampaignCheck, QuarterlyReview, VillageMeeting
from shouwang.cases.routine_selectors import month_of, month_shift
from shouwang.cases.routine_services import campaign_open
from shouwang.cases.services import lead_create
from shouwang.core.choices import Role
from shouwang.core.models import Division
from tests import factories as f
from tests.browser.conftest import VIEWPORTS
from tests.cases.routine_helpers import alert_for, monitored

PASSWORD = "routine-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def village_month(committed_divisions):
    """A cadre of 向前村 with a lead, an alert and monitored households; a township user; a
    county campaign under way."""
    today = dt.date.today()
    users = {
        "cadre": f.make_user(
            "cadre-xq", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉村干部"
        ),
        "township": f.make_user(
            "township-hl", Role.TOWNSHIP_STAFF, [f.TOWNSHIP_HUOLU], display_name="火炉镇干部"
        ),
        "district": f.make_user("district-wl", Role.DISTRICT_ADMIN, [f.COUNTY_WULONG]),
    }
    for user in users.values():
        user.set_password(PASSWORD)
        user.save()
    due = monitored(identified="202403", members=3)
    monitored(identified=month_of(today), members=2)
    alert_for(due)
    lead_create(
        actor=users["cadre"],
        channel=LeadChannel.WHISTLEBLOWER,
        division=Division.objects.get(code=f.VILLAGE_A),
        household=f.make_household(members=4),
        description="户主务工摔伤，住院两周，收入中断",
        received_on=today,
    )
    f.make_household(f.VILLAGE_B, members=2)
    campaign = campaign_open(
        actor=users["district"],
        name=f"{today.year}年防止返贫监测对象集中排查",
        scope=Division.objects.get(code=f.COUNTY_WULONG),
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=30),
        note="逐户核实家庭人口变化、收入和“三保障”情况。",
    )
    return {"users": users, "campaign": campaign, "due": due}


def _login(browser, live_server, username, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_township_and_village_cadre_work_the_routines(live_server, browser, village_month):
    from playwright.sync_api import expect

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    campaign = village_month["campaign"]
    today = dt.date.today()
    previous = month_shift(month_of(today), -1)

    for width, height in VIEWPORTS:
        # The township: last month's meetings are all missing; the campaign's progress.
        context, page = _login(browser, live_server, "township-hl", width, height)
        page.get_by_role("link", name="例会研判").click()
        expect(page.locator("h1")).to_contain_text("月工作会议")
        page.goto(f"{live_server.url}/routines/meetings/?month={previous}")
        expect(page.get_by_role("heading", name="逾期未召开")).to_be_visible()
        expect(page.locator("body")).to_contain_text("向前村")
        page.screenshot(path=shots / f"routines-missing-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/routines/campaigns/{campaign.pk}/")
        expect(page.locator("body")).to_contain_text("排查进度")
        page.screenshot(path=shots / f"routines-campaign-{width}.png", full_page=True)
        context.close()

        # The cadre records this month's meeting from the agenda Shouwang fills in.
        context, page = _login(browser, live_server, "cadre-xq", width, height)
        page.goto(f"{live_server.url}/routines/meetings/")
        page.get_by_role("link", name="登记会议").first.click()
        expect(page.locator(".agenda-item")).to_have_count(6)  # with overdue measures
        expect(page.locator(".agenda")).to_contain_text("户主务工摔伤")
        page.fill("#id_attendees", "村支书、村主任、驻村第一书记、监测员、村民小组长2人")
        for kind, text in {
            "new_leads": "安排网格员三日内入户核实",
            "open_cases": "无",
            "alerts": "逐户核实医疗自付情况",
            "eliminations_due": "下月启动风险消除提名",
            "monitor_report": "监测员汇报走访 32 户，无新增异常",
        }.items():
            page.fill(f"#id_decision_{kind}", text)
        page.screenshot(path=shots / f"routines-meeting-form-{width}.png", full_page=True)
        page.get_by_role("button", name="登记会议").click()
        expect(page.locator(".messages")).to_contain_text("已登记")
        page.screenshot(path=shots / f"routines-meeting-{width}.png", full_page=True)

        # A quarterly review.
        page.goto(f"{live_server.url}/routines/reviews/")
        page.get_by_role("link", name="登记研判").first.click()
        page.get_by_label("是").check()
        page.get_by_label("需要调整").check()
        page.fill("#id_note", "医疗负担仍重，增加公益性岗位一个")
        page.screenshot(path=shots / f"routines-review-form-{width}.png", full_page=True)
        page.get_by_role("button", name="登记研判").click()
        expect(page.locator(".messages")).to_contain_text("研判")

        # A campaign check with a birth.
        due = village_month["due"]
        page.goto(f"{live_server.url}/routines/campaigns/{campaign.pk}/check/{due.pk}/")
        page.locator("input[name=result][value=change_found]").check()
        page.fill("#id_note", "添一孙女")
        page.select_option("#id_new-0-reason", "birth")
        page.fill("#id_new-0-name", "冉小花")
        page.fill(
            "#id_new-0-id_number",
            f.next_id_number(birth=today - dt.timedelta(days=60), male=False),
        )
        page.select_option("#id_new-0-relation", "granddaughter")
        page.screenshot(path=shots / f"routines-campaign-check-{width}.png", full_page=True)
        page.get_by_role("button", name="登记排查结果").click()
        expect(page.locator(".messages")).to_contain_text("已登记")
        page.screenshot(path=shots / f"routines-campaign-village-{width}.png", full_page=True)
        context.close()

        due.refresh_from_db()
        assert due.member_count == 4
        # The next width records the same things again.
        VillageMeeting.objects.all().delete()
        QuarterlyReview.objects.all().delete()
        CampaignCheck.objects.all().delete()
        due.members.filter(name="冉小花").delete()
