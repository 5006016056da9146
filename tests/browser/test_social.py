"""Social help in a real browser: district staff register a job offer for an organisation and
generate proposals; a village cadre confirms one match (it becomes a plan measure) and
declines another.

Screenshots at phone and desktop width go to var/screenshots/social-*.png.
"""

import datetime as dt

import pytest
from django.conf import settings

from shouwang.assistance.choices import MatchStatus, MeasureSource
from shouwang.assistance.models import Measure, SocialMatch, SocialOffer
from shouwang.assistance.services import plan_accept
from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from tests import factories as f
from tests.browser.conftest import VIEWPORTS

PASSWORD = "social-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _monitored_with_need(village: str, head: str, name: str, days: int):
    household = f.make_household(
        village,
        members=0,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202601",
        risk_type_1=rc.RiskType.UNSTABLE_EMPLOYMENT,
    )
    f.make_member(household, name=head, relation=rc.Relation.HEAD)
    plan_accept(
        actor=None,
        household=household,
        items=[
            {
                "measure": Measure.objects.get(name=name),
                "planned_end": dt.date.today() + dt.timedelta(days=days),
            }
        ],
    )
    household.refresh_from_db()
    return household


@pytest.fixture
def people(committed_divisions):
    users = {
        "staff": f.make_user(
            "district-social", Role.DISTRICT_STAFF, [f.COUNTY_WULONG], display_name="区协作办干部"
        ),
        "cadre": f.make_user(
            "cadre-social", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉村干部"
        ),
    }
    for user in users.values():
        user.set_password(PASSWORD)
        user.save()
    households = [
        _monitored_with_need(f.VILLAGE_A, "冉光明", "劳务输出（转移就业）", 40),
        _monitored_with_need(f.VILLAGE_A, "刘素芬", "公益性岗位", 20),
        _monitored_with_need(f.VILLAGE_B, "陈志强", "技能培训", 10),
        _monitored_with_need(f.VILLAGE_OTHER_TOWNSHIP, "黄家富", "劳务输出（转移就业）", 5),
    ]
    return {"users": users, "households": households}


def _login(browser, live_server, username, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_register_propose_confirm_and_decline(live_server, browser, people):
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    job = Measure.objects.get(name="鲁渝协作就业岗位")

    # District staff register the offer on a desktop and generate proposals.
    context, page = _login(browser, live_server, "district-social", 1280, 800)
    page.goto(f"{live_server.url}/social/offers/new/")
    page.fill("#id_organisation", "淄博某纺织有限公司")
    page.select_option("#id_organisation_kind", "paired_region")
    page.select_option("#id_programme", "luyu")
    page.select_option("#id_kind", "job")
    page.select_option("#id_measure", str(job.pk))
    page.fill("#id_title", "纺织车间普工（包吃住）")
    page.fill("#id_description", "月薪 4500 元起，签订一年劳动合同，报销往返路费。")
    page.select_option("#id_division", f.VILLAGE_A)
    page.fill("#id_capacity", "")
    page.get_by_role("button", name="登记").click()
    assert page.locator(".field.has-error #id_capacity").count() == 1  # nothing lost
    assert page.input_value("#id_title") == "纺织车间普工（包吃住）"
    page.screenshot(path=shots / "social-offer-form-1280.png", full_page=True)
    page.fill("#id_capacity", "1")
    page.fill("#id_amount_per_household", "3000")
    page.get_by_role("button", name="登记").click()
    offer = SocialOffer.objects.get()
    page.wait_for_url(f"{live_server.url}/social/offers/{offer.pk}/")
    page.get_by_role("button", name="生成对接建议").click()
    page.wait_for_selector("text=已生成 2 条对接建议")
    page.screenshot(path=shots / "social-offer-detail-1280.png", full_page=True)
    context.close()

    # The proposals are the two 向前村 households (nearest), for one place: two per place.
    matched = list(
        SocialMatch.objects.order_by("distance", "id").values_list("household_id", flat=True)
    )
    assert matched == [people["households"][1].pk, people["households"][0].pk]

    for width, height in VIEWPORTS:
        context, page = _login(browser, live_server, "cadre-social", width, height)
        page.goto(f"{live_server.url}/social/")
        page.screenshot(path=shots / f"social-offers-{width}.png", full_page=True)
        if width == 375:
            page.goto(f"{live_server.url}/social/matches/")  # waiting for a decision
        else:
            page.goto(f"{live_server.url}/social/matches/?status=")  # all, decided on the phone
        assert page.locator("table.matches tbody tr").count() == 2
        page.screenshot(path=shots / f"social-matches-{width}.png", full_page=True)
        if width == 375:
            # Decline 冉光明 on the phone, saying why.
            row = page.locator("tr", has_text="冉光明")
            row.get_by_text("放弃", exact=True).click()
            row.locator("input[name=note]").fill("本人已在县城务工")
            page.screenshot(path=shots / "social-matches-decline-375.png", full_page=True)
            row.get_by_role("button", name="确认放弃").click()
            page.wait_for_selector("text=已放弃对接")
            # Confirm 刘素芬.
            row = page.locator("tr", has_text="刘素芬")
            row.get_by_text("确认对接", exact=True).click()
            row.locator("input[name=responsible_person]").fill("李经理")
            row.get_by_role("button", name="确认，写入帮扶计划").click()
            page.wait_for_selector("text=措施已写入帮扶计划")
            page.goto(f"{live_server.url}/social/offers/{offer.pk}/")
            page.screenshot(path=shots / "social-offer-detail-375.png", full_page=True)
        # A decided match's own page, with the measure it became.
        confirmed = SocialMatch.objects.get(household__head_name="刘素芬")
        page.goto(f"{live_server.url}/social/matches/{confirmed.pk}/")
        assert page.get_by_role("link", name="鲁渝协作就业岗位").count() == 1
        page.screenshot(path=shots / f"social-match-detail-{width}.png", full_page=True)
        context.close()

    statuses = dict(SocialMatch.objects.values_list("household__head_name", "status"))
    assert statuses == {"刘素芬": MatchStatus.CONFIRMED, "冉光明": MatchStatus.DECLINED}
    confirmed = SocialMatch.objects.get(status=MatchStatus.CONFIRMED).plan_measure
    assert confirmed.source == MeasureSource.SOCIAL_MATCH
    assert confirmed.responsible_person == "李经理"
