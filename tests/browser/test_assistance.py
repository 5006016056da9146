"""A household's assistance plan in a real browser, with two accounts.

A cadre of 向前村 opens the plan page of a monitored household at risk through illness (the
spouse has a serious illness), sees what the recommendation rules propose and which rule
proposed each, and accepts them. An officer of the medical insurance bureau (医保局), bound
to the district, finds 医疗救助 among the measures of the department and marks it delivered
with the amount paid. The cadre then sees the risk-elimination criterion "至少落实一项帮扶措施"
met. Screenshots of the plan page, the measure list and the measure page at phone and
desktop width go to var/screenshots/assistance-*.png.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import PlanMeasure
from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from tests import factories as f
from tests.browser.conftest import VIEWPORTS

PASSWORD = "assistance-password-1"
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _account(username: str, role: str, division: str, name: str, **extra):
    user = f.make_user(username, role, [division], display_name=name, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def plan_setup(committed_divisions):
    """The cadre, the officer, and 冉大山's household: monitored for seven months at risk
    through illness, two members who can work, one of them seriously ill."""
    cadre = _account("cadre-xiangqian", Role.VILLAGE_CADRE, f.VILLAGE_A, "冉村干部")
    officer = _account(
        "medical-li",
        Role.DEPARTMENT_OFFICER,
        f.COUNTY_WULONG,
        "李医保",
        department="medical_insurance",
    )
    # Seven months back, as tests/browser/test_cases.py does, so the months criterion holds.
    months_ago = timezone.localdate().replace(day=1) - dt.timedelta(days=7 * 31)
    household = f.make_household(
        members=0,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.SUDDEN_HARDSHIP,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month=months_ago.strftime("%Y%m"),
        risk_type_1=rc.RiskType.ILLNESS,
    )
    f.make_member(household, name="冉大山", relation=rc.Relation.HEAD)
    f.make_member(
        household,
        id_number=f.next_id_number(male=False),
        name="冉秀英",
        relation=rc.Relation.SPOUSE,
        health_status=rc.HealthStatus.SERIOUS_ILLNESS,
        labour_skill=rc.LabourSkill.ORDINARY,
    )
    household.refresh_from_db()
    return {"cadre": cadre, "officer": officer, "household": household}


class Screens:
    def __init__(self) -> None:
        self.dir = settings.VAR_DIR / "screenshots"
        self.dir.mkdir(parents=True, exist_ok=True)

    def shoot(self, page, name: str) -> None:
        """The page at phone and desktop width, whole length."""
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=self.dir / f"assistance-{name}-{width}.png", full_page=True)
        page.set_viewport_size(DESKTOP)


def _login(browser, live_server, username: str):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: r.status >= 400 and "/static/" in r.url and missing.append(r.url))
    page.goto(f"{live_server.url}/login/?next=/assistance/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/assistance/")
    assert missing == [], "a style sheet or script was not served"
    return page


def test_cadre_accepts_a_plan_and_the_department_delivers_it(live_server, browser, plan_setup):
    from playwright.sync_api import expect

    screens = Screens()
    household = plan_setup["household"]

    # The cadre reaches the plan from the household's page.
    cadre = _login(browser, live_server, "cadre-xiangqian")
    expect(cadre.get_by_role("link", name="精准帮扶", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(cadre.locator("#results")).to_contain_text("共 0 项措施")
    cadre.goto(f"{live_server.url}/households/{household.pk}/")
    cadre.get_by_role("link", name="帮扶计划").click()
    expect(cadre.locator("h1")).to_contain_text("冉大山户帮扶计划")
    expect(cadre.locator("#plan")).to_contain_text("尚未制定帮扶计划")
    members = cadre.locator(".plan-members tbody tr")
    expect(members).to_have_count(2)
    expect(members.nth(1)).to_contain_text("患有大病")
    expect(members.nth(1)).to_contain_text("普通劳动力")

    # The proposals, each with the rule that made it and why.
    proposals = cadre.locator(".proposal")
    expect(proposals).to_have_count(2)
    medical = proposals.filter(has_text="医疗救助")
    expect(medical).to_contain_text("推荐规则：因病：患病成员医疗救助")
    expect(medical).to_contain_text("风险：因病")
    expect(medical).to_contain_text("冉秀英（患有大病")
    training = proposals.filter(has_text="技能培训")
    expect(training).to_contain_text("推荐规则：有劳动能力：至少一项开发式帮扶")
    expect(medical.get_by_label("责任部门")).to_have_value("medical_insurance")
    screens.shoot(cadre, "plan-proposals")

    medical.get_by_role("checkbox").check()
    medical.get_by_label("责任人").fill("李医保")
    medical.get_by_label("金额（元）").fill("3000")
    training.get_by_role("checkbox").check()
    cadre.get_by_role("button", name="接受所选措施").click()
    expect(cadre.locator(".messages")).to_contain_text("已接受 2 项帮扶措施")
    plan_rows = cadre.locator("#plan tbody tr")
    expect(plan_rows).to_have_count(2)
    expect(cadre.locator("#plan")).to_contain_text("推荐规则：因病：患病成员医疗救助")
    expect(cadre.locator("#proposals")).to_contain_text("推荐规则没有新的措施可推荐")
    screens.shoot(cadre, "plan-accepted")
    cadre.get_by_text("添加措施", exact=True).click()
    expect(cadre.locator("#add").get_by_label("帮扶措施")).to_be_visible()
    screens.shoot(cadre, "plan-add")
    accepted = PlanMeasure.objects.get(plan__household=household, measure__name="医疗救助")
    assert accepted.rule_name == "因病：患病成员医疗救助"
    assert accepted.responsible_person == "李医保"

    # The medical insurance officer sees the department's measure, not the training.
    officer = _login(browser, live_server, "medical-li")
    expect(officer.locator(".lead")).to_contain_text("医保局负责落实的帮扶措施")
    rows = officer.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("冉大山")
    expect(rows.first).to_contain_text("计划中")
    expect(officer.locator("#results")).not_to_contain_text("技能培训")
    screens.shoot(officer, "measures")

    officer.get_by_role("link", name="医疗救助").click()
    expect(officer.locator("h1")).to_contain_text("医疗救助")
    expect(officer.locator("main")).to_contain_text("因病：患病成员医疗救助")
    screens.shoot(officer, "measure")
    delivery = officer.locator("#delivery")
    delivery.get_by_label("落实状态").select_option(label="已落实")
    delivery.get_by_label("金额（元）").fill("3260.5")
    delivery.get_by_label("落实情况说明").fill("住院费用医疗救助已拨付到户")
    delivery.get_by_role("button", name="保存落实情况").click()
    expect(officer.locator(".messages")).to_contain_text("已更新“医疗救助”的落实情况：已落实")
    expect(officer.locator(".meta .status")).to_have_text("已落实")
    expect(officer.locator("#delivery")).to_have_count(0)
    expect(officer.locator(".history")).to_contain_text("李医保")
    screens.shoot(officer, "measure-delivered")
    accepted.refresh_from_db()
    assert accepted.status == MeasureStatus.DELIVERED
    assert accepted.amount == Decimal("3260.50")
    assert accepted.updated_by == plan_setup["officer"]

    # Back in the village: the risk-elimination check counts the delivered measure.
    cadre.goto(f"{live_server.url}/cases/eliminate/{household.pk}/")
    criterion = cadre.locator(".criterion", has_text="至少落实一项帮扶措施")
    expect(criterion).to_have_class("criterion criterion-met")
    expect(criterion).to_contain_text("已满足")
    expect(criterion).to_contain_text("已落实 1 项：医疗救助")
    expect(cadre.locator(".criterion", has_text="纳入监测已满")).to_contain_text("已满足")
    criterion.get_by_role("link", name="查看帮扶计划").click()
    expect(cadre.locator("#plan")).to_contain_text("已落实 1 项")


def test_district_admin_edits_a_rule(live_server, browser, plan_setup):
    """The catalogue and a rule's form, where conditions are check boxes; a cadre reads."""
    from playwright.sync_api import expect

    from shouwang.assistance.models import RecommendationRule

    screens = Screens()
    _account("district-admin", Role.DISTRICT_ADMIN, f.COUNTY_WULONG, "区管理员")
    admin = _login(browser, live_server, "district-admin")
    admin.get_by_role("link", name="措施目录").click()
    expect(admin.locator("#main")).to_contain_text("医疗救助")
    screens.shoot(admin, "catalogue")
    admin.get_by_role("link", name="推荐规则").click()
    row = admin.locator("tr", has_text="因病：家庭医生签约服务")
    row.get_by_role("link", name="编辑").click()
    expect(admin.get_by_label("长期慢性病")).to_be_checked()
    admin.get_by_label("患有大病").check()
    admin.get_by_label("成员年龄不大于").fill("10")
    admin.get_by_label("成员年龄不小于").fill("20")
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".alert-error")).to_contain_text("成员年龄下限不能大于上限")
    expect(admin.get_by_label("患有大病")).to_be_checked()  # the input stays
    screens.shoot(admin, "rule-form-error")
    admin.get_by_label("成员年龄不小于").fill("")
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator(".messages")).to_contain_text("已保存推荐规则")
    screens.shoot(admin, "rules")
    rule = RecommendationRule.objects.get(name="因病：家庭医生签约服务")
    assert sorted(rule.member_health_statuses) == ["chronic", "serious_illness"]
    assert (rule.member_age_min, rule.member_age_max) == (None, 10)

    cadre = _login(browser, live_server, "cadre-xiangqian")
    cadre.get_by_role("link", name="推荐规则").click()
    expect(cadre.locator("#main")).to_contain_text("因病：家庭医生签约服务")
    expect(cadre.get_by_role("link", name="新增规则")).to_have_count(0)


PHONE = {"width": 390, "height": 844}


def _monitored_household(name: str, **data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    household = f.make_household(members=0, **{**fields, **data})
    f.make_member(household, name=name, relation=rc.Relation.HEAD)
    household.refresh_from_db()
    return household


def _overdue_measure(household, name: str) -> PlanMeasure:
    from shouwang.assistance.models import Measure
    from shouwang.assistance.services import plan_accept

    long_ago = timezone.localdate() - dt.timedelta(days=120)
    measure = Measure.objects.get(name=name)
    plan = plan_accept(
        actor=None,
        household=household,
        items=[{"measure": measure, "planned_start": long_ago, "planned_end": long_ago}],
    )
    return plan.measures.get(measure=measure)


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_department_delivers_overdue_measures_in_one_submit_on_a_phone(
    live_server, browser, committed_divisions
):
    """The medical insurance officer, on a phone, ticks the overdue measures (all on the page,
    then one off again), gives one date and one note, and delivers them in one submit."""
    from playwright.sync_api import expect

    screens = Screens()
    _account(
        "medical-bulk",
        Role.DEPARTMENT_OFFICER,
        f.COUNTY_WULONG,
        "张医保",
        department="medical_insurance",
    )
    names = ["冉一", "冉二", "冉三", "冉四", "冉五"]
    rows = [_overdue_measure(_monitored_household(name), "医疗救助") for name in names]

    page = _login(browser, live_server, "medical-bulk")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="逾期措施").click()
    expect(page.locator("#results")).to_contain_text("共 5 项措施")
    ticks = page.locator('#results input[name="pm"]')
    expect(ticks).to_have_count(5)
    select_all = page.get_by_label("全选本页")
    expect(select_all).to_be_visible()
    select_all.check()
    for i in range(5):
        expect(ticks.nth(i)).to_be_checked()
    expect(page.locator(".bulk-count")).to_have_text("已选 5 项")
    page.get_by_label(f"选择：{names[4]}户 医疗救助").uncheck()
    expect(page.locator(".bulk-count")).to_have_text("已选 4 项")
    expect(select_all).not_to_be_checked()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.get_by_label("登记为").select_option(label="已落实")
    page.get_by_label("日期").fill(yesterday.isoformat())
    page.get_by_label("落实情况说明").fill("医疗救助资金已统一拨付到户")
    assert _fits_the_width(page), "the list is wider than a phone"
    page.screenshot(path=screens.dir / "assistance-bulk-ticked-390.png", full_page=True)
    screens.shoot(page, "bulk-ticked")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="登记所选措施").click()

    expect(page.locator(".messages")).to_contain_text("已将 4 项措施登记为“已落实”。")
    expect(page.locator("#results")).to_contain_text("共 1 项措施")
    expect(page.locator("#results tbody tr")).to_contain_text(names[4])
    page.screenshot(path=screens.dir / "assistance-bulk-done-390.png", full_page=True)
    for pm in rows[:4]:
        pm.refresh_from_db()
        assert pm.status == MeasureStatus.DELIVERED
        assert pm.actual_end == yesterday
        assert pm.status_note == "医疗救助资金已统一拨付到户"
    rows[4].refresh_from_db()
    assert rows[4].status == MeasureStatus.PLANNED


def test_a_refused_batch_says_which_measure_and_why(live_server, browser, committed_divisions):
    """A cadre ticks a measure whose household's house is registered unsafe: the batch is
    refused with that measure named, and the measure page asks the housing question."""
    from playwright.sync_api import expect

    from shouwang.registry.models import Household

    screens = Screens()
    _account("cadre-bulk", Role.VILLAGE_CADRE, f.VILLAGE_A, "冉村干部")
    medical = _overdue_measure(_monitored_household("冉医"), "医疗救助")
    house = _monitored_household("冉房", risk_type_1=rc.RiskType.HOUSING, housing_secure=False)
    repair = _overdue_measure(house, "农村危房改造")

    page = _login(browser, live_server, "cadre-bulk")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="逾期措施").click()
    expect(page.locator("#results")).to_contain_text("落实时须确认“住房安全有保障”")
    page.get_by_label("全选本页").check()
    page.get_by_role("button", name="登记所选措施").click()
    expect(page.locator(".alert-error")).to_contain_text("以下 1 项措施不能登记，整批均未保存")
    expect(page.locator(".bulk-refused")).to_contain_text("冉房户 农村危房改造")
    expect(page.get_by_label("选择：冉医户 医疗救助")).to_be_checked()  # the ticks stay
    assert _fits_the_width(page)
    page.screenshot(path=screens.dir / "assistance-bulk-refused-390.png", full_page=True)
    medical.refresh_from_db()
    assert medical.status == MeasureStatus.PLANNED

    # On the measure's own page the delivery asks whether the house is safe now.
    page.get_by_role("link", name="农村危房改造").click()
    question = page.get_by_role("group", name="落实后该户住房安全是否已有保障？")
    expect(question).to_be_visible()
    expect(question.get_by_label("否，仍无保障")).to_be_checked()  # the registry's value
    delivery = page.locator("#delivery")
    delivery.get_by_label("落实状态").select_option(label="已落实")
    question.get_by_label("是，住房安全有保障").check()
    assert _fits_the_width(page)
    page.screenshot(path=screens.dir / "assistance-confirm-housing-390.png", full_page=True)
    delivery.get_by_role("button", name="保存落实情况").click()
    expect(page.locator(".messages")).to_contain_text("已同步更新农户档案：“住房安全有保障”为“是”")
    repair.refresh_from_db()
    assert repair.status == MeasureStatus.DELIVERED
    assert Household.objects.get(pk=house.pk).housing_secure is True
