"""A district administrator in a real browser: upload a department file and watch the batch
page, then edit a rule with htmx (another feed redraws its fields, the preview counts) and
look at the policy parameters. Screenshots at phone and desktop width go to var/screenshots/.
"""

import csv
import re

import pytest
from django.conf import settings

from shouwang.core.choices import Role
from shouwang.screening.models import FeedBatch
from tests import factories as f
from tests.browser.conftest import VIEWPORTS
from tests.screening.staging import stage_rows

PASSWORD = "admin-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(committed_divisions):
    user = f.make_user(
        "admin-wulong", Role.DISTRICT_ADMIN, [f.COUNTY_WULONG], display_name="区管理员"
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", "admin-wulong")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()


def _settled(page) -> None:
    """Wait until htmx has swapped and processed new content (a person is never this quick)."""
    from playwright.sync_api import expect

    expect(
        page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    ).to_have_count(0)


def test_upload_and_rule_editing_in_the_browser(live_server, browser, admin, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    stage_rows(
        "medical",
        [
            {"id_number": f.next_id_number(), "settled_on": "2026-10-03", "out_of_pocket": "30000"},
            {"id_number": f.next_id_number(), "settled_on": "2026-10-04", "out_of_pocket": "9000"},
        ],
        period="2026-10",
    )

    for number, (width, height) in enumerate(VIEWPORTS):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        _login(page, live_server.url)

        # Upload: a GB18030 file with one bad ID number; the batch page ends with its counts.
        upload = tmp_path / f"医保-{width}.csv"
        with upload.open("w", encoding="gb18030", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额"])
            writer.writerow([f.next_id_number(), "张三", "2026-10-05", "住院", "18000"])
            writer.writerow(["5001561980", "李四", "2026-10-06", "门诊", f"{number}"])
        page.goto(f"{live_server.url}/screening/feeds/upload/")
        page.select_option("#id_source", "medical")
        page.fill("#id_period", "2026-10")
        page.set_input_files("#id_file", str(upload))
        page.screenshot(path=shots / f"feed-upload-{width}.png", full_page=True)
        page.get_by_role("button", name="上传并导入").click()
        expect(page).to_have_url(re.compile(r"/screening/feeds/batches/\d+/$"))
        expect(page.locator(".count-accepted dd")).to_have_text("1")
        expect(page.locator(".count-rejected dd")).to_have_text("1")
        expect(page.locator("#batch-status")).to_contain_text("身份证号码有误")
        page.screenshot(path=shots / f"feed-batch-{width}.png", full_page=True)

        page.goto(f"{live_server.url}/screening/feeds/medical/")
        page.screenshot(path=shots / f"feed-source-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/screening/feeds/")
        page.screenshot(path=shots / f"feed-list-{width}.png", full_page=True)

        # Rule editor: choosing another feed swaps in its fields without a page load.
        page.goto(f"{live_server.url}/screening/rules/inpatient-out-of-pocket-month/edit/")
        page.fill("#id_name", "单月住院自付较高（试）")
        hints = page.locator(".choice-hints")
        expect(hints).to_contain_text("就诊类别")
        page.select_option("#id_feed", "disability")
        expect(hints).to_contain_text("残疾等级")
        _settled(page)
        condition = page.locator("#id_conditions-0-field")
        expect(condition.locator("option[value=disability_grade]")).to_have_count(1)
        expect(page.locator("#id_name")).to_have_value("单月住院自付较高（试）")
        page.select_option("#id_feed", "medical")
        expect(hints).to_contain_text("就诊类别")
        _settled(page)
        page.select_option("#id_conditions-0-field", "visit_type")
        page.fill("#id_conditions-0-value", "住院")
        page.fill("#id_preview_period", "2026-10")

        # The preview comes back into the page; nothing is saved.
        page.get_by_role("button", name="预览现在会产生多少预警").click()
        preview = page.locator("#rule-preview")
        expect(preview).to_contain_text("这条规则现在会命中")
        expect(page.locator("#id_name")).to_have_value("单月住院自付较高（试）")
        page.screenshot(path=shots / f"rule-edit-{width}.png", full_page=True)

        page.goto(f"{live_server.url}/screening/rules/")
        page.screenshot(path=shots / f"rule-list-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/screening/rules/medical-out-of-pocket-12m/")
        expect(page.locator(".rule-sentence")).to_contain_text(
            "按户合计 ≥ 上年农村居民人均可支配收入×50%"
        )
        page.screenshot(path=shots / f"rule-detail-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/screening/policy/")
        page.screenshot(path=shots / f"policy-list-{width}.png", full_page=True)
        context.close()

    assert FeedBatch.objects.filter(file_name__startswith="医保-").count() == len(VIEWPORTS)
