"""Identification and risk elimination in a real browser, with three accounts.

A cadre of 向前村 (火炉镇) takes a household through the village's steps of identification: the
application, the home visit (first with a mistake the page points out, keeping what was
typed), the village review, and after the notice (printed to PDF) its close; a staff member of
火炉镇 approves at the township and district staff decide. Months later the same household is
taken out of monitoring through the five elimination steps. Screenshots of the case list, the
case page at several steps, the criteria and the notice at phone and desktop width go to
var/screenshots/cases-*.png.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from shouwang.cases.choices import CaseKind, CaseState, LeadChannel
from shouwang.cases.models import Case, CaseAttachment
from shouwang.cases.services import case_open, lead_create
from shouwang.core.choices import Role
from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from tests import factories as f
from tests.browser.case_helpers import (
    RECOVERED_FIGURES,
    Screens,
    account,
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

PHONE = "13987654321"
#: A tiny but real PNG: the upload checks the first bytes, not only the name.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _lead_case(household: Household, actor, *, received_on: dt.date) -> Case:
    lead = lead_create(
        actor=actor,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主突发脑梗住院，自付医疗费用较大",
        phone=PHONE,
        received_on=received_on,
    )
    return case_open(actor=actor, lead=lead, today=received_on)


@pytest.fixture
def wulong(committed_divisions, settings, tmp_path):
    """Three accounts, the household of 冉光明 in 向前村 with an identification case opened
    from a cadre's lead, and two neighbours' cases near and past their limit."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cadre = account("cadre-xiangqian", Role.VILLAGE_CADRE, f.VILLAGE_A, "冉村干部")
    township = account("huolu-chen", Role.TOWNSHIP_STAFF, f.TOWNSHIP_HUOLU, "陈乡镇")
    district = account("district-liu", Role.DISTRICT_STAFF, f.COUNTY_WULONG, "刘区县")
    household = f.make_household(members=0, household_type=rc.HouseholdType.ORDINARY, phone=PHONE)
    head_id = f.next_id_number()
    f.make_member(household, id_number=head_id, name="冉光明", relation=rc.Relation.HEAD)
    f.make_member(
        household,
        id_number=f.next_id_number(male=False),
        name="冉秀英",
        relation=rc.Relation.SPOUSE,
    )
    f.make_member(household, name="冉小军", relation=rc.Relation.SON)
    household.refresh_from_db()
    today = timezone.localdate()
    case = _lead_case(household, cadre, received_on=today)
    # Neighbours: one case due in two days, one five days past its 15-day limit.
    near = _lead_case(f.make_household(members=2), cadre, received_on=today - dt.timedelta(13))
    late = _lead_case(
        f.make_household(f.VILLAGE_B, members=2), township, received_on=today - dt.timedelta(20)
    )
    return {
        "cadre": cadre,
        "township": township,
        "district": district,
        "household": household,
        "head_id": head_id,
        "case": case,
        "near": near,
        "late": late,
        "sign_sheet": _png(tmp_path),
    }


def _png(tmp_path: Path) -> Path:
    path = tmp_path / "入户核实签字表.png"
    path.write_bytes(PNG)
    return path


def test_three_accounts_identify_a_household_and_later_eliminate_its_risk(
    live_server, browser, wulong
):
    from playwright.sync_api import expect

    screens = Screens()
    case = wulong["case"]
    household = wulong["household"]
    cadre = login(browser, live_server, "cadre-xiangqian")

    # The list: open cases of the cadre's village, nearest limit first, urgency in words.
    rows = cadre.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("临近时限：剩 2 天")
    expect(rows.nth(1)).to_contain_text("第 2 步/共 6 步")
    expect(cadre.locator("#results")).not_to_contain_text("火炉社区")  # the other village
    expect(cadre.get_by_role("link", name="识别消除", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    township = login(browser, live_server, "huolu-chen")
    expect(township.locator("#results tbody tr")).to_have_count(3)
    expect(township.locator("#results tbody tr").first).to_contain_text("已超时限 5 天")
    screens.shoot(township, "list")

    # Step 2, the application: the cadre opens the case from the list.
    cadre.get_by_role("link", name=f"监测对象识别 #{case.pk}").click()
    expect(cadre.locator("h1")).to_contain_text("监测对象识别")
    expect(cadre.locator(".step-current")).to_contain_text("农户申请")
    screens.shoot(cadre, "detail-application")
    apply = step(cadre, "apply")
    expect(apply.get_by_label("申请人", exact=True)).to_have_value("冉光明")
    apply.get_by_label("已签署承诺书（如实申报家庭收入、财产）").check()
    apply.get_by_label("同意授权核查家庭存款、车辆、住房等资产").check()
    submit(cadre, "apply", "登记农户申请")

    # Step 3, the home visit: without a category the page says so and keeps the figures.
    expect(cadre.locator(".step-current")).to_contain_text("入户核实")
    visit = step(cadre, "verify")
    # A registered household's size is its members: the visit does not ask it again.
    expect(visit.get_by_label("家庭人口", exact=True)).to_have_count(0)
    expect(visit.get_by_label("核实人员", exact=True)).to_have_value("冉村干部")
    # The signed visit sheet, scanned: the visit waits for it (a policy value).
    expect(visit).to_contain_text("请先在本页“附件”中上传：入户核实记录（签字）")
    upload(cadre, "入户核实记录（签字）")
    assert CaseAttachment.objects.filter(case=case, kind="visit_record").count() == 1
    visit = step(cadre, "verify")
    fill_home_visit(visit, proposal=True)
    visit.get_by_label("核实情况", exact=True).fill("户主脑梗住院，妻子照料无法外出务工")
    visit.get_by_role("button", name="登记入户核实").click()
    visit = step(cadre, "verify")
    expect(visit.locator(".field.has-error")).to_contain_text("请选择拟定的监测类别")
    expect(visit.get_by_label("核实人员", exact=True)).to_have_value("冉村干部、驻村工作队员吴某")
    expect(visit.get_by_label("核实情况", exact=True)).to_have_value(
        "户主脑梗住院，妻子照料无法外出务工"
    )
    expect(visit.get_by_label("因意外事故", exact=True)).to_be_checked()
    screens.shoot(cadre, "detail-visit-error")
    visit.get_by_label("拟定监测类别", exact=True).select_option("sudden_hardship")
    submit(cadre, "verify", "登记入户核实")
    expect(cadre.locator("#attachments")).to_contain_text("入户核实记录（签字）")

    # Step 4, the village review, then the notice; closing it waits for the notice's end.
    fill_review(cadre, "经民主评议，同意纳入监测")
    submit(cadre, "review", "村级评议通过并公示")
    case.refresh_from_db()
    expect(cadre.locator("#action-close_notice")).to_contain_text(
        f"公示期至 {case.notice_ends_on} 结束"
    )
    expect(
        step(cadre, "close_notice").get_by_role("button", name="公示期满无异议")
    ).to_be_disabled()
    expect(cadre.locator(".timeline")).to_contain_text("扣除合规自付支出后人均纯收入（元）")
    screens.shoot(cadre, "detail-notice")

    # The printable notice: name and reason, no numbers or health details.
    cadre.get_by_role("link", name="查看、打印公示").click()
    expect(cadre.locator("#notice-title")).to_contain_text("火炉镇向前村")
    sheet = cadre.locator(".notice-sheet")
    expect(sheet).to_contain_text("冉光明")
    expect(sheet).to_contain_text("突发严重困难户")
    expect(sheet).to_contain_text("向前村村民委员会")
    text = sheet.inner_text()
    for private in (wulong["head_id"], PHONE, household.phone_masked, "脑梗", "因病"):
        assert private not in text
    expect(cadre.get_by_role("button", name="打印公示")).to_be_visible()
    screens.shoot(cadre, "notice")
    print_notice(cadre, screens, "notice")

    # The notice has run (see _notice_over); the cadre closes it for the township.
    notice_over(case)
    open_case(cadre, live_server, case)
    upload(cadre, "公示照片")
    submit(cadre, "close_notice", "公示期满无异议")
    expect(cadre.locator(".waiting")).to_contain_text("等待乡镇（街道）工作人员办理")

    # Step 5, the township's joint review.
    open_case(township, live_server, case)
    expect(township.locator(".step-current")).to_contain_text("乡镇（街道）联合审核")
    screens.shoot(township, "detail-township")
    step(township, "township_approve").get_by_label("审核意见").fill(
        "经民政、医保、人社联合审核，情况属实"
    )
    submit(township, "township_approve", "乡镇审核同意")

    # Step 6, the district's decision.
    district = login(browser, live_server, "district-liu")
    open_case(district, live_server, case)
    step(district, "approve").get_by_label("审定意见").fill("同意纳入监测，落实帮扶措施")
    submit(district, "approve", "区县审定通过")
    expect(district.locator("main")).to_contain_text("该户已纳入防止返贫监测对象")
    expect(district.locator(".step-done")).to_have_count(6)
    timeline = district.locator(".timeline > li")
    expect(timeline).to_have_count(6)
    expect(timeline.last).to_contain_text("刘区县")
    screens.shoot(district, "detail-approved")
    household.refresh_from_db()
    assert household.monitoring_status == rc.MonitoringStatus.RISK_UNRESOLVED
    assert household.monitoring_category == rc.MonitoringCategory.SUDDEN_HARDSHIP
    assert household.risk_types == ["illness", "accident"]

    # Seven months on (identified_month moved back; 三保障 and water secure, no open alerts,
    # members able to work from setup), the income recovered, with a measure of the plan
    # delivered (tests/browser/test_assistance.py does that in pages).
    months_ago = timezone.localdate().replace(day=1) - dt.timedelta(days=7 * 31)
    Household.objects.filter(pk=household.pk).update(identified_month=months_ago.strftime("%Y%m"))
    income_recovered(household)
    f.deliver_measure(household)

    # Elimination, step 1: the cadre checks the criteria, starts and nominates.
    cadre.goto(f"{live_server.url}/cases/")
    cadre.get_by_role("link", name="启动风险消除").click()
    cadre.locator("tr", has_text=household.household_number).get_by_role(
        "link", name="查看消除条件"
    ).click()
    expect(cadre.locator(".criterion-met")).to_have_count(6)
    screens.shoot(cadre, "criteria")
    cadre.get_by_role("button", name="启动风险消除").click()
    expect(cadre.locator("h1")).to_contain_text("风险消除")
    expect(cadre.locator(".meta")).to_contain_text("第 1 步/共 5 步")
    elimination = Case.objects.get(household=household, kind=CaseKind.ELIMINATION)
    nominate = step(cadre, "nominate")
    nominate.get_by_label("消除方式").select_option("assisted")
    nominate.get_by_label("提名理由").fill("公益性岗位和医疗救助落实后收入稳定")
    submit(cadre, "nominate", "村（社区）提名")

    # Steps 2 and 3: the home visit (no proposal this time), the review and the notice.
    expect(step(cadre, "verify").get_by_label("拟定监测类别")).to_have_count(0)
    upload(cadre, "入户核实记录（签字）")
    fill_home_visit(step(cadre, "verify"), proposal=False, figures=RECOVERED_FIGURES)
    step(cadre, "verify").get_by_label("核实情况").fill("户主康复后在村公益性岗位就业")
    submit(cadre, "verify", "登记入户核实")
    fill_review(cadre, "同意标注风险消除")
    submit(cadre, "review", "村级评议通过并公示")
    screens.shoot(cadre, "detail-elimination-notice")
    cadre.get_by_role("link", name="查看、打印公示").click()
    expect(cadre.locator("#notice-title")).to_contain_text("风险消除公示")
    expect(cadre.locator(".notice-sheet")).to_contain_text("帮扶消除")
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
    screens.shoot(district, "detail-eliminated")

    elimination.refresh_from_db()
    household.refresh_from_db()
    assert elimination.state == CaseState.APPROVED
    assert household.monitoring_status == rc.MonitoringStatus.RISK_ELIMINATED
    assert household.elimination_method == rc.EliminationMethod.ASSISTED
    assert list(elimination.transitions.values_list("actor__username", flat=True)) == [
        "cadre-xiangqian",
        "cadre-xiangqian",
        "cadre-xiangqian",
        "cadre-xiangqian",
        "huolu-chen",
        "district-liu",
    ]
