"""The layout on a 390-px phone, next to a 1280-px desktop: a navigation of one line with a menu,
household cards of two or three lines, tab bars that scroll instead of clipping, and names and
dates in the leads inbox that never break inside themselves.

Screenshots of every page checked go to /tmp/shots/ (outside the repository) for a human to
look at.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from shouwang.cases.choices import LeadChannel
from shouwang.cases.services import lead_create
from shouwang.core.choices import Role
from shouwang.core.models import Division
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "phone-layout-password-1"
PHONE = (390, 844)
DESKTOP = (1280, 800)
SHOTS = Path("/tmp/shots")

#: The navigation entries each role may open (core.context_processors.navigation).
CADRE_NAV = ["首页", "农户档案", "导入导出", "线索", "识别消除", "例会研判", "精准帮扶", "预警"]
ADMIN_NAV = [*CADRE_NAV, "数据比对", "系统管理"]

#: Before, a household was a card of nine labelled lines, about 300 px, and the first page of
#: 25 measured 8,483 px at 390 x 844 (demo data; 7,757 px of it the cards). A card is now
#: the number, head and status on one line and the place and figures in small print under
#: it: 58 to 90 px with its margin. Allowing three lines of small print (110 px a card) and
#: the page head, filters and pagination (about 650 px), the page stays under half its old
#: height.
CARD_MAX = 110
RESULTS_MAX = 25 * CARD_MAX
LIST_PAGE_MAX = 8483 // 2

HEAD_NAMES = ["冉光明", "何江俊", "欧阳春花", "赵琴", "彭飞", "舒才开", "刘德华", "司马相如"]


@pytest.fixture
def village(committed_divisions):
    """The 向前村 cadre with 30 households (more than a page), leads on some of them and on a
    person with no record yet; and a district admin who may open every section."""
    cadre = f.make_user("cadre-phone", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="冉光明")
    admin = f.make_user(
        "admin-phone",
        Role.DISTRICT_ADMIN,
        [f.COUNTY_WULONG],
        display_name="陈志刚",
        is_staff=True,
    )
    for user in (cadre, admin):
        user.set_password(PASSWORD)
        user.save()
    households = []
    for n in range(30):
        monitored = n % 4 == 0
        household = f.make_household(
            f.VILLAGE_A,
            members=0,
            household_number=f"50015610420{n + 1:05d}",
            household_type=(
                rc.HouseholdType.MONITORED if monitored else rc.HouseholdType.POVERTY_EXITED
            ),
            monitoring_category=rc.MonitoringCategory.MARGINAL if monitored else "",
            monitoring_status=(
                rc.MonitoringStatus.RISK_UNRESOLVED
                if monitored
                else rc.MonitoringStatus.NOT_MONITORED
            ),
            identified_month="202403" if monitored else "",
            risk_type_1=rc.RiskType.ILLNESS if monitored else "",
            wage_income=Decimal("48000") + n * 1000,
        )
        f.make_member(household, name=HEAD_NAMES[n % len(HEAD_NAMES)], relation=rc.Relation.HEAD)
        f.make_member(household, name="冉小军", relation=rc.Relation.SON)
        households.append(household)
    received = dt.date(2026, 11, 2)
    for n, household in enumerate(households[:6]):
        lead_create(
            actor=cadre,
            channel=[LeadChannel.HOME_VISIT, LeadChannel.DEPARTMENT_ALERT][n % 2],
            division=household.village,
            household=household,
            description=(
                "走访发现户主因病住院，妻子外出务工收入中断，两个孩子在读，"
                "家庭人均纯收入可能低于监测范围，需入户核实医疗费用和收入情况"
            ),
            received_on=received - dt.timedelta(days=n),
        )
    lead_create(
        actor=cadre,
        channel=LeadChannel.WHISTLEBLOWER,
        division=Division.objects.get(code=f.VILLAGE_A),
        person_name="阿依古丽·买买提",
        description="邻居反映其家中老人无人照看，房屋漏雨",
        received_on=received - dt.timedelta(days=9),
    )
    return {"cadre": cadre, "admin": admin}


def _page(browser, live_server, username, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=SHOTS / f"phone-layout-{name}-{width}.png", full_page=full_page)


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _nav_labels(page) -> list[str]:
    return [label.strip() for label in page.locator(".site-nav a").all_inner_texts()]


# Every link's box, and whether it is the element at its own centre (nothing covers it).
_LINKS_SEEN = """nav => [...nav.querySelectorAll('a, button')].map(el => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {text: el.innerText.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom,
          uncovered: hit !== null && (hit === el || el.contains(hit))};
})"""


@pytest.mark.parametrize(("role", "labels"), [("cadre", CADRE_NAV), ("admin", ADMIN_NAV)])
def test_the_phone_navigation_is_one_line_and_the_menu_shows_every_entry(
    live_server, browser, village, role, labels
):
    from playwright.sync_api import expect

    username = village[role].username
    context, page = _page(browser, live_server, username, PHONE)
    page.goto(f"{live_server.url}{reverse('registry:household_list')}")
    header = page.locator(".site-header")
    nav = page.locator(".site-nav")
    menu = page.locator(".nav-menu summary")

    # Closed: the brand, a strip of entries and 菜单 on one line (before: three lines, 173 px).
    assert _box(header)["height"] < 80
    assert _box(nav)["height"] <= 48
    expect(menu).to_be_visible()
    expect(menu).to_have_text("菜单", use_inner_text=True)
    assert _nav_labels(page) == labels  # only what the role may open
    assert nav.evaluate("n => getComputedStyle(n).overflowX") == "auto"
    current = nav.locator("a[aria-current='page']")
    expect(current).to_have_text("农户档案")
    current_box, nav_box = _box(current), _box(nav)
    assert nav_box["x"] <= current_box["x"] and current_box["x"] + current_box["width"] <= (
        nav_box["x"] + nav_box["width"] + 1
    ), "the current section starts in view"
    _shot(page, f"nav-closed-{role}", full_page=False)

    # Every entry of the strip can be scrolled to (existing tests click them at phone width).
    for link in nav.locator("a").all():
        link.scroll_into_view_if_needed()
        box = _box(link)
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE[0] + 1, link

    # Open: every entry on screen at once, none clipped or covered; the page does not jump.
    menu.click()
    expect(menu).to_have_text("收起", use_inner_text=True)
    assert page.evaluate("scrollY") == 0
    seen = nav.evaluate(_LINKS_SEEN)
    assert [item["text"] for item in seen] == [*labels, "退出"]
    for item in seen:
        assert 0 <= item["left"] and item["right"] <= PHONE[0], item
        assert 0 <= item["top"] and item["bottom"] <= PHONE[1], item
        assert item["uncovered"], item
    assert _box(header)["height"] < PHONE[1] / 2
    _shot(page, f"nav-open-{role}", full_page=False)
    menu.click()
    assert _box(header)["height"] < 80

    # The menu is a phone's: a desktop shows every entry on one line and no button.
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    expect(menu).to_be_hidden()
    assert _box(header)["height"] < 60
    seen = nav.evaluate(_LINKS_SEEN)
    assert len({round(item["top"]) for item in seen}) == 1, "one line"
    assert all(item["right"] <= DESKTOP[0] and item["uncovered"] for item in seen), seen
    _shot(page, f"nav-{role}", full_page=False)
    context.close()


def test_a_page_of_households_is_a_short_list_of_brief_cards(live_server, browser, village):
    from playwright.sync_api import expect

    url = f"{live_server.url}{reverse('registry:household_list')}"
    context, page = _page(browser, live_server, village["cadre"].username, PHONE)
    page.goto(url)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(25)
    expect(page.locator("#results .pagination")).to_contain_text("第 1 / 2 页")

    results_height = _box(page.locator("#results"))["height"]
    page_height = page.evaluate("document.documentElement.scrollHeight")
    print(f"390 px: 25 households {results_height:.0f} px, page {page_height} px")
    assert results_height < RESULTS_MAX
    assert page_height < LIST_PAGE_MAX
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

    # Each card: number, head and status badge on the first line, the village under them.
    for row in rows.all():
        assert _box(row)["height"] <= CARD_MAX - 6  # less the margin between cards
        number, head = row.locator("td.card-title a"), row.locator("td.brief-name")
        badge = row.locator("td.brief-badge .status")
        tops = {round(_box(cell)["y"] + _box(cell)["height"] / 2) for cell in (number, head)}
        badge_box = _box(badge)
        assert all(abs(top - (badge_box["y"] + badge_box["height"] / 2)) < 8 for top in tops)
        village_cell = row.locator("td.brief-meta", has_text="向前村")
        expect(village_cell).to_be_visible()
        assert _box(village_cell)["y"] > badge_box["y"] + badge_box["height"] - 2
    first = rows.first
    expect(first).to_contain_text("5001561042000001")
    expect(first).to_contain_text("冉光明")
    expect(first).to_contain_text("风险未消除")
    expect(first).to_contain_text("边缘易致贫户")
    # The figures keep their label (the column header's) in the small print.
    members = first.locator("td.brief-labelled").first
    assert members.evaluate("td => getComputedStyle(td, '::before').content") == '"人口"'
    _shot(page, "households")
    _shot(page, "households-screen", full_page=False)

    # A desktop keeps the table with its header row.
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    expect(page.locator("#results thead")).to_be_visible()
    expect(page.locator("#results thead th")).to_have_count(9)
    assert _box(rows.first)["height"] < 50
    _shot(page, "households")
    context.close()


#: Pages with tab bars, for each role.
CADRE_TAB_PAGES = [
    ("assistance:index", ()),
    ("assistance:overdue", ()),
    ("assistance:catalogue", ()),
    ("assistance:rule_list", ()),
    ("coverage:overview", ()),
    ("coverage:problems", ("uncovered",)),
    ("social:offer_list", ()),
    ("social:match_list", ()),
    ("routines:meeting_list", ()),
    ("routines:review_list", ()),
    ("routines:campaign_list", ()),
    ("cases:elimination_candidates", ()),
]
ADMIN_TAB_PAGES = [
    ("coverage:overview", ()),
    ("coverage:problems", ("backstop_only",)),
    ("screening:run_list", ()),
    ("screening:feed_list", ()),
    ("screening:rule_list", ()),
    ("policy:policy_list", ()),
]

# Each bar in the page's main part: its box, overflow, and each tab's box once scrolled to.
_TAB_BARS = """() => [...document.querySelectorAll('main nav:not(.pagination)')].map(bar => {
  const box = b => { const r = b.getBoundingClientRect(); return {left: r.left, right: r.right}; };
  const current = bar.querySelector('a[aria-current]');
  const start = current ? box(current) : null;
  const tabs = [...bar.querySelectorAll('a')].map(a => {
    a.scrollIntoView({block: 'nearest', inline: 'nearest'});
    return {text: a.innerText.trim(), lines: a.getClientRects().length,
            lineHeight: a.getBoundingClientRect().height, ...box(a)};
  });
  return {label: bar.getAttribute('aria-label'), cls: bar.className, ...box(bar),
          scrollWidth: bar.scrollWidth, clientWidth: bar.clientWidth,
          overflowX: getComputedStyle(bar).overflowX, current: start, tabs};
})"""


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_tab_bars_scroll_sideways_and_clip_no_tab(live_server, browser, village, size):
    for role, pages in (("cadre", CADRE_TAB_PAGES), ("admin", ADMIN_TAB_PAGES)):
        context, page = _page(browser, live_server, village[role].username, size)
        initial_target = page.evaluate("CSS.supports('scroll-initial-target', 'nearest')")
        for name, args in pages:
            response = page.goto(f"{live_server.url}{reverse(name, args=args)}")
            assert response is not None and response.status == 200, name
            # The first screen as it opens: the current tab in view.
            _shot(page, f"tabs-{role}-{name.replace(':', '-')}", full_page=False)
            assert page.evaluate("document.documentElement.scrollWidth") <= size[0], name
            bars = page.evaluate(_TAB_BARS)
            assert bars, name
            for bar in bars:
                where = f"{name} {bar['label']}"
                assert 0 <= bar["left"] and bar["right"] <= size[0], where
                fits = bar["scrollWidth"] <= bar["clientWidth"]
                assert fits or bar["overflowX"] in ("auto", "scroll"), where
                if bar["current"] is not None and initial_target:
                    current = bar["current"]
                    assert bar["left"] - 1 <= current["left"], where
                    assert current["right"] <= bar["right"] + 1, where
                for tab in bar["tabs"]:
                    # Reachable: scrolled to, the whole tab is inside its bar, on one line.
                    assert bar["left"] - 1 <= tab["left"], (where, tab)
                    assert tab["right"] <= bar["right"] + 1, (where, tab)
                    assert tab["lines"] == 1, (where, tab)
        context.close()


# Line boxes of every word of the names and dates in the leads table: a text node's range has
# one client rect per line it takes.
_LEAD_LINES = """() => {
  const out = [];
  for (const row of document.querySelectorAll('table.leads tbody tr:not(.merged-row)')) {
    for (const label of ['对象', '发现日期', '所在村（社区）']) {
      const cell = row.querySelector(`td[data-label="${label}"]`);
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const word of node.textContent.trim().split(/\\s+/).filter(Boolean)) {
          const at = node.textContent.indexOf(word);
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + word.length);
          const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
          out.push({label, word, lines: tops.size});
        }
      }
    }
  }
  return out;
}"""


@pytest.mark.parametrize(
    "size", [PHONE, (800, 1000), DESKTOP], ids=["phone", "narrow-table", "desktop"]
)
def test_lead_names_and_dates_never_break_inside(live_server, browser, village, size):
    from playwright.sync_api import expect

    context, page = _page(browser, live_server, village["cadre"].username, size)
    page.goto(f"{live_server.url}{reverse('leads:lead_list')}")
    expect(page.locator("table.leads tbody tr")).to_have_count(7)
    words = page.evaluate(_LEAD_LINES)
    checked = {item["word"] for item in words}
    assert {"阿依古丽·买买提", "欧阳春花", "2026-11-02", "向前村村民委员会"} <= checked, checked
    broken = [item for item in words if item["lines"] != 1]
    assert broken == [], broken
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    _shot(page, "leads")
    context.close()
