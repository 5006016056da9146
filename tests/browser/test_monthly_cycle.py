"""A village cadre's monthly cycle on a phone (390 px): the monthly meeting from its agenda,
then a household that meets every risk-elimination criterion taken from nomination through
the visit, the village review and the end of the notice.

Every field the cadre types, picks or attaches goes through ``Typist``, which counts them: the
count is the test's measure of "each fact typed once". What Shouwang already holds (the
meeting's attendees, the visit's incomes and visitor, the review's people and result, the
attachment's kind) must arrive filled in, and the test checks that it does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.cases.choices import CaseKind, CaseState, LeadChannel
from shouwang.cases.models import Case, VillageMeeting
from shouwang.cases.routine_selectors import month_of
from shouwang.cases.routine_services import meeting_create
from shouwang.cases.services import lead_create
from shouwang.core.choices import Role
from shouwang.core.models import Division
from shouwang.registry import choices as rc
from tests import factories as f
from tests.browser.case_helpers import PNG, Screens, account, notice_over, step
from tests.cases.routine_helpers import ALL_DECISIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "cases-password-1"
ATTENDEES = "冉支书、李主任、吴第一书记、向监测员"
#: Fields the same walk needed before the forms were pre-filled, counted from those forms:
#: meeting 5 (attendees, their number, three decisions); nomination 2; visit 8 (visitors,
#: six incomes, findings; the size was pre-filled); review 3 (attendees, their number, the
#: opinion; the result was pre-selected); no attachment was required.
TYPED_BEFORE = 18


class Typist:
    """Fills, picks and attaches like a person, and counts each field touched."""

    def __init__(self) -> None:
        self.count = 0
        self.fields: list[str] = []

    def fill(self, locator, value: str, name: str) -> None:
        locator.fill(value)
        self._typed(name)

    def pick(self, locator, name: str, **option: str) -> None:
        locator.select_option(**option)
        self._typed(name)

    def attach(self, page, name: str) -> None:
        from playwright.sync_api import expect

        form = page.locator(".attachment-form")
        form.get_by_label("文件", exact=True).set_input_files(
            {"name": f"{name}.png", "mimeType": "image/png", "buffer": PNG}
        )
        self._typed(name)
        form.get_by_role("button", name="上传附件").click()
        expect(page.locator(".messages")).to_contain_text("附件已上传")

    def _typed(self, name: str) -> None:
        self.count += 1
        self.fields.append(name)


@pytest.fixture
def month(committed_divisions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cadre = account("cadre-xiangqian", Role.VILLAGE_CADRE, f.VILLAGE_A, "冉村干部")
    village = Division.objects.get(code=f.VILLAGE_A)
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    meeting_create(
        actor=cadre,
        village=village,
        month=month_of(last_month),
        held_on=last_month.replace(day=5),
        attendees=ATTENDEES,
        decisions=ALL_DECISIONS,
        today=today,
    )
    identified = (today.replace(day=1) - dt.timedelta(days=9 * 31)).strftime("%Y%m")
    monitored = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.SUDDEN_HARDSHIP,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": identified,
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    ready = f.make_household(members=2, **monitored)
    f.deliver_measure(ready)
    # As long monitored, a measure delivered, but still under the line after medical bills.
    short = f.make_household(
        members=2,
        wage_income=Decimal("9000"),
        compliant_out_of_pocket=Decimal("3000"),
        **monitored,
    )
    f.deliver_measure(short)
    lead_create(
        actor=cadre,
        channel=LeadChannel.WHISTLEBLOWER,
        division=village,
        household=f.make_household(members=3, household_type=rc.HouseholdType.ORDINARY),
        description="户主务工摔伤，住院两周",
        received_on=today,
    )
    return {"cadre": cadre, "ready": ready, "short": short, "today": today}


def test_a_village_cadres_month_on_a_phone_types_each_fact_once(live_server, browser, month):
    from playwright.sync_api import expect

    screens = Screens("monthly")
    typist = Typist()
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next=/routines/meetings/")
    page.fill("#id_username", "cadre-xiangqian")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/routines/meetings/")

    # 1. The monthly meeting: the agenda is Shouwang's, the attendees last month's.
    page.get_by_role("link", name="登记会议").first.click()
    expect(page.get_by_label("参会人员", exact=True)).to_have_value(ATTENDEES)
    expect(page.get_by_label("参会人数")).to_have_count(0)
    agenda = page.locator(".agenda-item")
    # Only the household that meets every criterion is up for elimination.
    eliminations = agenda.filter(has_text="满足风险消除条件")
    expect(eliminations).to_contain_text(month["ready"].household_number)
    expect(eliminations).not_to_contain_text(month["short"].household_number)
    # What the service requires is marked (the asterisk) and nothing else.
    required = page.locator(".agenda-item .field.is-required textarea")
    expect(required).to_have_count(3)  # the new lead, the elimination, the monitor's report
    screens.shoot(page, "meeting-form")
    page.set_viewport_size(PHONE)
    for index in range(required.count()):
        typist.fill(required.nth(index), "按议题逐项研究，落实到人", f"decision-{index}")
    page.get_by_role("button", name="登记会议").click()
    expect(page.locator(".messages")).to_contain_text("工作会议")
    meeting = VillageMeeting.objects.get(month=month_of(month["today"]))
    assert meeting.attendee_count == 4

    # 2. Whom to nominate: the list shows the criteria and filters by them.
    page.goto(f"{live_server.url}/cases/eliminate/?ready=1")
    rows = page.locator("tr.candidate")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("全部满足")
    screens.shoot(page, "candidates")
    page.set_viewport_size(PHONE)
    rows.first.get_by_role("link", name="查看消除条件").click()
    expect(page.locator(".criterion-met")).to_have_count(6)
    page.get_by_role("button", name="启动风险消除").click()
    nominate = step(page, "nominate")
    typist.pick(nominate.get_by_label("消除方式"), "method", value="assisted")
    typist.fill(nominate.get_by_label("提名理由"), "务工收入稳定，医疗费用已报销", "reason")
    nominate.get_by_role("button", name="村（社区）提名", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已办理")

    # 3. The visit: the signed record first (its kind is chosen already), then the form
    # starts from the registry's incomes and names the cadre.
    expect(page.locator(".attachment-form").get_by_label("材料类型")).to_have_value("visit_record")
    typist.attach(page, "visit-record")
    visit = step(page, "verify")
    expect(visit.get_by_label("核实人员", exact=True)).to_have_value("冉村干部")
    expect(visit.get_by_label("工资性收入（元）", exact=True)).to_have_value("30000.00")
    expect(visit.get_by_label("家庭人口", exact=True)).to_have_count(0)
    expect(visit.get_by_label("拟定监测类别")).to_have_count(0)
    screens.shoot(page, "visit-form", element="#action-verify")
    page.set_viewport_size(PHONE)
    typist.fill(
        visit.get_by_label("核实情况", exact=True), "务工收入稳定，三保障无问题", "findings"
    )
    visit.get_by_role("button", name="登记入户核实", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已办理“登记入户核实”")

    # 4. The village review: the meeting's people, the button's result.
    review = step(page, "review")
    expect(review.get_by_label("参会人员", exact=True)).to_have_value(ATTENDEES)
    expect(review.get_by_label("评议结果")).to_have_count(0)
    typist.fill(review.get_by_label("评议意见", exact=True), "同意标注风险消除", "opinion")
    review.get_by_role("button", name="村级评议通过并公示", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已办理")
    case = Case.objects.get(household=month["ready"], kind=CaseKind.ELIMINATION)

    # 5. After the notice, its photo, and the case goes to the township.
    notice_over(case)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator(".attachment-form").get_by_label("材料类型")).to_have_value("notice_photo")
    typist.attach(page, "notice-photo")
    step(page, "close_notice").get_by_role("button", name="公示期满无异议").click()
    expect(page.locator(".messages")).to_contain_text("已办理")
    screens.shoot(page, "sent-to-township")
    case.refresh_from_db()
    assert case.state == CaseState.TOWNSHIP_REVIEW

    # The measure: fields typed this month, against what the same walk took before.
    print(f"\nfields typed: {typist.count} (before: {TYPED_BEFORE}): {', '.join(typist.fields)}")
    # Three decisions, method and reason, the two scans, the findings and the opinion.
    assert typist.count == 9
    assert typist.count < TYPED_BEFORE
    context.close()
