"""What the browser tests of identification and risk elimination share: accounts, logging in,
taking a step on a case's page, filling the records, waiting out the notice, printing it, and
screenshots at phone and desktop width."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.utils import timezone

from shouwang.cases.models import Case
from tests import factories as f
from tests.browser.conftest import VIEWPORTS

PASSWORD = "cases-password-1"
DESKTOP = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 375, "height": 812}


def account(username: str, role: str, division: str, name: str):
    """A user who logs in with ``PASSWORD``."""
    user = f.make_user(username, role, [division], display_name=name)
    user.set_password(PASSWORD)
    user.save()
    return user


class Screens:
    """Screenshots under var/screenshots/, named ``<prefix>-<name>-<width>.png``."""

    def __init__(self, prefix: str = "cases") -> None:
        self.prefix = prefix
        self.dir = settings.VAR_DIR / "screenshots"
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, name: str, suffix: str):
        return self.dir / f"{self.prefix}-{name}-{suffix}"

    def shoot(self, page, name: str, *, element: str | None = None) -> None:
        """The page (or one element of it) at phone and desktop width, whole length; the
        page is left at desktop width."""
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            target = self.path(name, f"{width}.png")
            if element is None:
                page.screenshot(path=target, full_page=True)
            else:
                page.locator(element).screenshot(path=target)
        page.set_viewport_size(DESKTOP)


def login(browser, live_server, username: str, *, next_url: str = "/cases/"):
    """A new browser context logged in as ``username``, on ``next_url``; every style sheet
    and script the pages load must be served."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: r.status >= 400 and "/static/" in r.url and missing.append(r.url))
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_url}")
    assert missing == [], "a style sheet or script was not served"
    return page


def open_case(page, live_server, case: Case) -> None:
    page.goto(f"{live_server.url}/cases/{case.pk}/")


def step(page, verb: str):
    """The form of one step on a case's page."""
    return page.locator(f"#action-{verb}")


def submit(page, verb: str, label: str) -> None:
    """Take the step and check the page says it was taken."""
    from playwright.sync_api import expect

    step(page, verb).get_by_role("button", name=label, exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"已办理“{label}”")


def fill_application(page, *, name: str, id_number: str, phone: str, description: str) -> None:
    """The public /apply/ form for a household of 火炉镇向前村, pledge and consent ticked."""
    from playwright.sync_api import expect

    page.select_option("#id_township", label="火炉镇")
    # The village list follows the township (htmx): another township's villages leave it.
    expect(page.locator(f'#id_village option[value="{f.VILLAGE_OTHER_TOWNSHIP}"]')).to_have_count(0)
    expect(page.locator(f'#id_village option[value="{f.VILLAGE_A}"]')).to_have_count(1)
    page.select_option("#id_village", f.VILLAGE_A)
    page.fill("#id_applicant_name", name)
    page.fill("#id_id_number", id_number)
    page.fill("#id_phone", phone)
    page.fill("#id_description", description)
    page.get_by_label("承诺如实申报家庭收入").check()
    page.get_by_label("同意授权核查家庭存款").check()


#: An identification's visit: net 10,400 yuan a year, 4,000 compliant spending.
HARDSHIP_FIGURES = ("6000", "3000", "0", "2400", "1000", "4000")
#: An elimination's visit: net 34,000, 2,000 compliant spending.
RECOVERED_FIGURES = ("30000", "3000", "0", "2000", "1000", "2000")
INCOME_LABELS = (
    "工资性收入（元）",
    "生产经营性收入（元）",
    "财产性收入（元）",
    "转移性收入（元）",
    "生产经营性支出（元）",
    "合规自付支出（元）",
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def fill_home_visit(
    form,
    *,
    proposal: bool,
    visitors: str = "冉村干部、驻村工作队员吴某",
    figures: tuple[str, ...] = HARDSHIP_FIGURES,
) -> None:
    """The visit's people and figures."""
    form.get_by_label("核实人员", exact=True).fill(visitors)
    for label, value in zip(INCOME_LABELS, figures, strict=True):
        form.get_by_label(label, exact=True).fill(value)
    if proposal:
        form.get_by_label("因病", exact=True).check()
        form.get_by_label("因意外事故", exact=True).check()


def fill_review(page, note: str) -> None:
    form = step(page, "review")
    form.get_by_label("参会人员", exact=True).fill("冉支书、李主任、吴书记、代表张某、代表王某")
    form.get_by_label("评议意见", exact=True).fill(note)


def upload(page, kind: str, name: str = "scan.png") -> None:
    """File an attachment of ``kind`` (its label) from the case's page, as a photo."""
    from playwright.sync_api import expect

    form = page.locator(".attachment-form")
    form.get_by_label("材料类型").select_option(label=kind)
    form.get_by_label("文件", exact=True).set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": PNG}
    )
    form.get_by_role("button", name="上传附件").click()
    expect(page.locator(".messages")).to_contain_text("附件已上传")


def income_recovered(household) -> None:
    """Months after identification the household earns again: the registry records its
    new year's income (as the cadre's household edit does), above the line after spending."""
    from decimal import Decimal

    from shouwang.registry.services import household_update

    household_update(
        actor=None,
        household=household,
        data={
            "wage_income": Decimal("36000"),
            "operating_income": Decimal("3000"),
            "compliant_out_of_pocket": Decimal("1000"),
        },
    )


def notice_over(case: Case) -> None:
    """Stand in for waiting out the notice: the services take ``today``, a browser cannot
    pass it, so the notice's last day moves to yesterday."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Case.objects.filter(pk=case.pk).update(notice_ends_on=yesterday)


def print_notice(page, screens: Screens, name: str) -> bytes:
    """The notice as printed: navigation and buttons hidden, one A4 page saved as PDF."""
    from playwright.sync_api import expect

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="打印公示")).to_be_hidden()
    expect(page.locator(".notice-sheet")).to_be_visible()
    # About A4 at 96 dpi, to look at what the paper will show.
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=screens.path(name, "print.png"), full_page=True)
    pdf = page.pdf(
        path=screens.dir / f"{screens.prefix}-{name}.pdf", format="A4", print_background=True
    )
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "the notice should fit one A4 page"
    page.emulate_media(media="screen")
    page.set_viewport_size(DESKTOP)
    return pdf
