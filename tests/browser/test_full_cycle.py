"""One household's whole cycle in a real browser, with three accounts.

田桂兰 of 火炉镇向前村 is not in the registry. She applies on the public /apply/ page from a
phone, without an account. The village cadre finds the application in the leads inbox and
opens the case from it; at the home visit the cadre registers the household through the
visit's form (a first try with missing fields keeps what was typed), holds the village review
and prints the notice. After the notice has run, a staff member of 火炉镇 approves at the
township and district staff decide: the household is a monitoring object. Seven months on,
with a measure delivered, it leaves monitoring through the five elimination steps and is
marked 风险已消除.

Screenshots of the application, the home-visit form (empty and with its errors), the case
after the visit, the printed notice and the decided cases, at phone and desktop width, go to
var/screenshots/full-cycle-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from shouwang.cases.choices import CaseKind, CaseState, CaseVerb, LeadChannel
from shouwang.cases.models import Case, Lead
from shouwang.core.choices import AuditAction, Role
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from tests import factories as f
from tests.browser.case_helpers import (
    PHONE_VIEWPORT,
    RECOVERED_FIGURES,
    Screens,
    account,
    fill_application,
    fill_home_visit,
    fill_review,
    income_recovered,
    login,
    notice_over,
    open_case,
    print_notice,
    step,
    submit,
    upload,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPLICANT = "田桂兰"
BIRTH = dt.date(1975, 4, 2)
PHONE = "13912340678"
HOUSEHOLD_NUMBER = "5001561042000901"


@pytest.fixture
def accounts(committed_divisions, settings, tmp_path):
    """The village cadre of 向前村, a staff member of 火炉镇 and one of the district."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the public page's rate limits count in the process's cache
    yield {
        "cadre": account("cadre-xiangqian", Role.VILLAGE_CADRE, f.VILLAGE_A, "冉村干部"),
        "township": account("huolu-chen", Role.TOWNSHIP_STAFF, f.TOWNSHIP_HUOLU, "陈乡镇"),
        "district": account("district-liu", Role.DISTRICT_STAFF, f.COUNTY_WULONG, "刘区县"),
    }
    cache.clear()


def test_a_household_applies_is_registered_identified_and_later_leaves_monitoring(
    live_server, browser, accounts
):
    from playwright.sync_api import expect

    screens = Screens("full-cycle")
    id_number = f.next_id_number(birth=BIRTH, male=False)

    # 1. The household applies from a phone, with no account.
    phone_context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    applicant = phone_context.new_page()
    applicant.goto(f"{live_server.url}/apply/")
    expect(applicant.locator(".site-nav")).to_have_count(0)
    fill_application(
        applicant,
        name=APPLICANT,
        id_number=id_number,
        phone=PHONE,
        description="丈夫在外务工时摔伤瘫痪，家里没有收入，两个孩子还在上学",
    )
    applicant.screenshot(path=screens.path("apply", "375.png"), full_page=True)
    applicant.get_by_role("button", name="提交申请").click()
    expect(applicant).to_have_url(f"{live_server.url}/apply/done/")
    lead = Lead.objects.get(channel=LeadChannel.SELF_APPLICATION)
    expect(applicant.locator(".tracking-code")).to_have_text(lead.tracking_code)
    phone_context.close()
    assert lead.household is None and lead.person_name == APPLICANT

    # 2. The lead: the village cadre finds the application in the inbox.
    cadre = login(browser, live_server, "cadre-xiangqian", next_url="/leads/")
    row = cadre.locator("#results tbody tr", has_text=APPLICANT)
    expect(row).to_contain_text("农户自主申报")
    expect(row).to_contain_text("（未建档）")
    row.get_by_role("link", name=f"#{lead.pk}", exact=True).click()
    expect(cadre.locator("main")).to_contain_text(lead.id_number_masked)

    # 3. The case, opened from the lead: the application is its step 2 already.
    cadre.get_by_role("button", name="启动识别").click()
    expect(cadre.locator("h1")).to_contain_text("监测对象识别")
    expect(cadre.locator(".step-current")).to_contain_text("入户核实")
    expect(cadre.locator("main")).to_contain_text("入户核实时登记")
    case = Case.objects.get(lead=lead)

    # 4. The home visit registers the household: the head is named as on the lead, the lead's
    # numbers are offered masked (never in full) and used when left blank.
    visit = step(cadre, "verify")
    expect(visit.locator("fieldset legend").first).to_have_text("农户档案（该户尚未建档）")
    expect(visit.get_by_label("在农户档案中登记该户")).to_be_checked()
    expect(visit.get_by_label("户主姓名", exact=True)).to_have_value(APPLICANT)
    id_field = visit.get_by_label("户主身份证号码", exact=True)
    expect(id_field).to_have_value("")
    expect(id_field).to_have_attribute("placeholder", lead.id_number_masked)
    expect(visit.get_by_label("联系电话", exact=True)).to_have_attribute(
        "placeholder", lead.phone_masked
    )
    expect(visit.get_by_label("户主民族", exact=True)).to_have_value(rc.Ethnicity.HAN)
    expect(visit).to_contain_text("其他家庭成员请到农户档案页面添加")
    assert id_number not in cadre.content() and PHONE not in cadre.content()
    # Linking a household already registered needs its number only: the head's fields hide.
    visit.get_by_label("该户已建档，按户编号关联").check()
    expect(visit.locator(".registration-new")).to_be_hidden()
    visit.get_by_label("在农户档案中登记该户").check()
    expect(visit.locator(".registration-new")).to_be_visible()
    screens.shoot(cadre, "visit-form")
    screens.shoot(cadre, "visit-form-panel", element="#action-verify")

    # The signed visit record first (a policy value), then a first try without the household
    # number and the head's education: both are named, the rest stays as typed.
    upload(cadre, "入户核实记录（签字）")
    visit = step(cadre, "verify")
    fill_home_visit(visit, proposal=True, visitors="冉村干部、网格员向某")
    visit.get_by_label("家庭人口", exact=True).fill("4")
    visit.get_by_label("核实情况", exact=True).fill(
        "丈夫摔伤后瘫痪在床，需长期护理，家庭无务工收入"
    )
    visit.get_by_label("拟定监测类别", exact=True).select_option("sudden_hardship")
    visit.get_by_label("户主健康状况", exact=True).select_option(label="健康")
    visit.get_by_label("户主劳动技能", exact=True).select_option(label="普通劳动力")
    visit.get_by_role("button", name="登记入户核实").click()
    visit = step(cadre, "verify")
    expect(visit.locator(".field.has-error")).to_have_count(2)
    expect(visit.locator(".field.has-error").first).to_contain_text("请填写户编号")
    expect(visit.locator(".field.has-error").nth(1)).to_contain_text("请选择户主文化程度")
    expect(visit.get_by_label("核实人员", exact=True)).to_have_value("冉村干部、网格员向某")
    expect(visit.get_by_label("户主劳动技能", exact=True)).to_have_value(rc.LabourSkill.ORDINARY)
    expect(visit.get_by_label("因意外事故", exact=True)).to_be_checked()
    screens.shoot(cadre, "visit-form-errors", element="#action-verify")
    visit.get_by_label("户编号", exact=True).fill(HOUSEHOLD_NUMBER)
    visit.get_by_label("户主文化程度", exact=True).select_option(label="初中")
    submit(cadre, "verify", "登记入户核实")
    expect(cadre.locator(".messages")).to_contain_text(
        f"已在农户档案中登记户 {HOUSEHOLD_NUMBER}（户主 {APPLICANT}）"
    )
    # The registry holds the head; the page points to where the other three are added.
    expect(cadre.locator(".members-missing")).to_contain_text(
        "农户档案中已登记 1 人，入户核实的家庭人口为 4 人"
    )
    expect(cadre.locator(".timeline")).to_contain_text("入户核实时新登记")
    screens.shoot(cadre, "after-visit")

    household = Household.objects.get(household_number=HOUSEHOLD_NUMBER)
    head = household.members.get()
    lead.refresh_from_db()
    case.refresh_from_db()
    assert (household.village_id, household.household_type) == (
        f.VILLAGE_A,
        rc.HouseholdType.ORDINARY,
    )
    assert (head.name, head.relation, head.sex, head.birth_date) == (
        APPLICANT,
        rc.Relation.HEAD,
        rc.Sex.FEMALE,
        BIRTH,
    )
    assert head.id_number_index == lead.id_number_index
    assert lead.household == household and case.household == household
    cadre.get_by_role("link", name="到农户档案添加其他家庭成员").click()
    expect(cadre).to_have_url(
        f"{live_server.url}{reverse('registry:household_detail', args=[household.pk])}"
    )
    expect(cadre.locator("main")).to_contain_text(APPLICANT)

    # 5. The village review, and the notice printed: name and reason, nothing private.
    open_case(cadre, live_server, case)
    fill_review(cadre, "经民主评议，同意纳入监测")
    submit(cadre, "review", "村级评议通过并公示")
    cadre.get_by_role("link", name="查看、打印公示").click()
    cadre.emulate_media(media="print")
    sheet = cadre.locator(".notice-sheet")
    expect(sheet).to_contain_text(APPLICANT)
    expect(sheet).to_contain_text("突发严重困难户")
    printed = sheet.inner_text()
    for private in (id_number, lead.id_number_masked, PHONE, lead.phone_masked, "瘫痪", "因病"):
        assert private not in printed
    print_notice(cadre, screens, "notice")

    # 6. The notice has run (see notice_over); the cadre closes it for the township.
    notice_over(case)
    open_case(cadre, live_server, case)
    upload(cadre, "公示照片")
    submit(cadre, "close_notice", "公示期满无异议")

    # 7. The township's joint review.
    township = login(browser, live_server, "huolu-chen")
    open_case(township, live_server, case)
    step(township, "township_approve").get_by_label("审核意见").fill(
        "经民政、医保、人社联合审核，情况属实"
    )
    submit(township, "township_approve", "乡镇审核同意")

    # 8. The district's decision: a monitoring object.
    district = login(browser, live_server, "district-liu")
    open_case(district, live_server, case)
    step(district, "approve").get_by_label("审定意见").fill("同意纳入监测，落实帮扶措施")
    submit(district, "approve", "区县审定通过")
    expect(district.locator("main")).to_contain_text("该户已纳入防止返贫监测对象")
    expect(district.locator(".step-done")).to_have_count(6)
    screens.shoot(district, "identified")
    household.refresh_from_db()
    assert household.monitoring_status == rc.MonitoringStatus.RISK_UNRESOLVED
    assert household.household_type == rc.HouseholdType.MONITORED
    assert household.monitoring_category == rc.MonitoringCategory.SUDDEN_HARDSHIP
    assert household.identified_month == timezone.localdate().strftime("%Y%m")
    # Every step with its actor: the application came from the household itself.
    assert list(case.transitions.values_list("verb", "actor__username")) == [
        (CaseVerb.APPLY, None),
        (CaseVerb.VERIFY, "cadre-xiangqian"),
        (CaseVerb.REVIEW, "cadre-xiangqian"),
        (CaseVerb.CLOSE_NOTICE, "cadre-xiangqian"),
        (CaseVerb.TOWNSHIP_APPROVE, "huolu-chen"),
        (CaseVerb.APPROVE, "district-liu"),
    ]
    registered = AuditEvent.objects.filter(
        subject=f"registry.household:{household.pk}", action=AuditAction.CREATE
    )
    assert set(registered.values_list("target_type", "actor__username")) == {
        ("registry.household", "cadre-xiangqian"),
        ("registry.member", "cadre-xiangqian"),
        ("cases.caseattachment", "cadre-xiangqian"),  # the visit record and notice photo
    }

    # 9. Seven months on (identified_month moved back), with a measure delivered.
    months_ago = timezone.localdate().replace(day=1) - dt.timedelta(days=7 * 31)
    Household.objects.filter(pk=household.pk).update(identified_month=months_ago.strftime("%Y%m"))
    income_recovered(household)
    f.deliver_measure(household)

    # 10. Elimination, step 1: the criteria are met; the cadre starts and nominates.
    cadre.goto(f"{live_server.url}/cases/")
    cadre.get_by_role("link", name="启动风险消除").click()
    cadre.locator("tr", has_text=HOUSEHOLD_NUMBER).get_by_role("link", name="查看消除条件").click()
    expect(cadre.locator(".criterion-met")).to_have_count(6)
    cadre.get_by_role("button", name="启动风险消除").click()
    expect(cadre.locator(".meta")).to_contain_text("第 1 步/共 5 步")
    elimination = Case.objects.get(household=household, kind=CaseKind.ELIMINATION)
    nominate = step(cadre, "nominate")
    nominate.get_by_label("消除方式").select_option("assisted")
    nominate.get_by_label("提名理由").fill("丈夫纳入残疾人两项补贴，本人在村公益性岗位就业")
    submit(cadre, "nominate", "村（社区）提名")

    # Steps 2 and 3: the home visit (the household is registered now: no registration
    # fields), the review and the notice.
    visit = step(cadre, "verify")
    expect(visit.locator("fieldset")).to_have_count(0)
    upload(cadre, "入户核实记录（签字）")
    visit = step(cadre, "verify")
    fill_home_visit(visit, proposal=False, figures=RECOVERED_FIGURES)
    visit.get_by_label("核实情况").fill("公益性岗位收入稳定，护理补贴按月发放")
    submit(cadre, "verify", "登记入户核实")
    fill_review(cadre, "同意标注风险消除")
    submit(cadre, "review", "村级评议通过并公示")
    notice_over(elimination)
    open_case(cadre, live_server, elimination)
    upload(cadre, "公示照片")
    submit(cadre, "close_notice", "公示期满无异议")

    # Steps 4 and 5: the township and the district.
    open_case(township, live_server, elimination)
    step(township, "township_approve").get_by_label("审核意见").fill("同意")
    submit(township, "township_approve", "乡镇审核同意")
    open_case(district, live_server, elimination)
    step(district, "approve").get_by_label("审定意见").fill("同意标注风险消除")
    submit(district, "approve", "区县审定通过")
    expect(district.locator("main")).to_contain_text("该户已标注风险消除")
    screens.shoot(district, "eliminated")

    household.refresh_from_db()
    elimination.refresh_from_db()
    assert elimination.state == CaseState.APPROVED
    assert household.monitoring_status == rc.MonitoringStatus.RISK_ELIMINATED
    assert household.elimination_method == rc.EliminationMethod.ASSISTED
    assert household.eliminated_month == timezone.localdate().strftime("%Y%m")
    assert list(elimination.transitions.values_list("actor__username", flat=True)) == [
        "cadre-xiangqian",
        "cadre-xiangqian",
        "cadre-xiangqian",
        "cadre-xiangqian",
        "huolu-chen",
        "district-liu",
    ]
