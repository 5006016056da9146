"""Feed pages: sources and their columns, the template, the column-mapping editor, the upload
page, a batch's progress and outcome, the batch list, and who sees which department's data."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from shouwang.core.choices import AuditAction
from shouwang.core.models import AuditEvent
from shouwang.screening.choices import BatchStatus
from shouwang.screening.feeds.services import feed_batch_submit
from shouwang.screening.models import FeedBatch, FeedSource
from shouwang.screening.services import screening_run
from tests import factories as f
from tests.screening.staging import stage_rows

pytestmark = pytest.mark.django_db

HEADER = ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"]
PERIOD = "2026-10"


def _text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def medical_csv(rows: list[list[str]], *, encoding: str = "gb18030", name: str = "医保.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), "text/csv")


def _rows(person: str) -> list[list[str]]:
    return [
        [person, "张三", "2026-10-05", "住院", "18000", "向前村"],
        [f.next_id_number(), "李四", "2026/10/6", "门诊", "12.5", ""],
        ["12345", "王五", "2026-10-07", "住院", "1", ""],
        [f.next_id_number(), "赵六", "2026-10-08", "急诊", "30", ""],
    ]


def _upload(client, django_capture_on_commit_callbacks, file, *, source="medical", period=PERIOD):
    """Post the upload form; the queued import runs once the request's transaction commits."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("screening:feed_upload"), {"source": source, "period": period, "file": file}
        )


# --- who sees what -----------------------------------------------------------------------


def test_grid_and_township_users_get_403(client, village_cadre, township_staff):
    batch = stage_rows("medical", [], period=PERIOD)
    for user in (village_cadre, township_staff):
        client.force_login(user)
        for url in (
            reverse("screening:feed_list"),
            reverse("screening:feed_detail", args=["medical"]),
            reverse("screening:feed_upload"),
            reverse("screening:batch_list"),
            reverse("screening:batch_detail", args=[batch.pk]),
            reverse("screening:feed_template", args=["medical"]),
        ):
            assert client.get(url).status_code == 403, url


def test_department_officer_sees_and_uploads_only_the_departments_sources(
    client, department_officer, django_capture_on_commit_callbacks
):
    other = stage_rows("education", [], period=PERIOD)
    client.force_login(department_officer)
    listing = _text(client.get(reverse("screening:feed_list")))
    assert "医保局医疗费用结算数据" in listing and "教委学生学籍及辍学数据" not in listing
    assert client.get(reverse("screening:feed_detail", args=["education"])).status_code == 404
    assert client.get(reverse("screening:batch_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("screening:feed_edit", args=["medical"])).status_code == 403
    form = client.get(reverse("screening:feed_upload")).content.decode()
    assert '<option value="medical">' in form and 'value="education"' not in form

    response = _upload(
        client,
        django_capture_on_commit_callbacks,
        medical_csv(_rows(f.next_id_number())),
        source="education",
    )
    assert response.status_code == 200
    assert "不能向所选数据源上传" in _text(response)
    assert not FeedBatch.objects.filter(source__slug="education").exclude(pk=other.pk).exists()
    assert "教委" not in _text(client.get(reverse("screening:batch_list")))


# --- sources -----------------------------------------------------------------------------


def test_source_list_shows_latest_batch_period_and_rows(client, district_staff):
    stage_rows(
        "medical", [{"id_number": f.next_id_number(), "settled_on": "2026-09-01"}], period="2026-09"
    )
    latest = stage_rows(
        "medical",
        [{"id_number": f.next_id_number(), "settled_on": "2026-10-01"} for _i in range(3)],
        period=PERIOD,
    )
    client.force_login(district_staff)
    html = client.get(reverse("screening:feed_list")).content.decode()
    row = re.search(
        r"<tr>\s*<td[^>]*>.{0,200}?/screening/feeds/medical/.*?</tr>", html, re.S
    ).group(0)
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "医保局" in cells and "2026-10 期" in cells and "已入库" in cells
    assert cells.strip().endswith("3")
    assert reverse("screening:batch_detail", args=[latest.pk]) in row
    assert "尚未导入" in _text(client.get(reverse("screening:feed_list")))


def test_source_detail_lists_columns_and_recent_batches(client, district_staff):
    batch = stage_rows("medical", [], period=PERIOD)
    client.force_login(district_staff)
    response = client.get(reverse("screening:feed_detail", args=["medical"]))
    text = _text(response)
    assert "个人自付金额" in text and "个人自付、自付金额、个人负担金额" in text
    assert "金额/数值" in text and "选项" in text
    assert "inpatient = 住院" in text and "outpatient = 门诊、普通门诊" in text
    assert f"#{batch.pk}" in text
    assert "修改列定义" not in text  # staff upload, administrators edit


def test_template_download_has_the_chinese_headers(client, district_staff, tmp_path):
    client.force_login(district_staff)
    response = client.get(reverse("screening:feed_template", args=["medical"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    path = tmp_path / "template.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    header = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[0]
    assert header[:6] == ["身份证号码", "姓名", "结算日期", "就诊类别", "医疗总费用", "报销金额"]
    csv_response = client.get(reverse("screening:feed_template_csv", args=["water"]))
    content = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    assert content.splitlines()[0] == "村（社区）,停水日期,停水天数,影响户数,停水原因"


# --- editing a source's columns ----------------------------------------------------------


def _edit_form(client, slug: str) -> dict[str, object]:
    """The edit form's fields as the page fills them."""
    html = client.get(reverse("screening:feed_edit", args=[slug])).content.decode()
    data: dict[str, object] = {}
    for name, value in re.findall(r'<input type="text" name="([^"]+)"[^>]*?value="([^"]*)"', html):
        data[name] = value
    for name in re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*checked', html):
        data[name] = "on"
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>\s*(.*?)</textarea>', html, re.S):
        data[name] = value.replace("&lt;", "<").replace("&gt;", ">").strip()
    return data


def test_admin_renames_a_header_and_adds_an_alias(client, district_admin):
    client.force_login(district_admin)
    data = _edit_form(client, "medical")
    assert data["col6-header"] == "个人自付金额"
    data["col6-header"] = "个人自付费用"
    data["col6-aliases"] = data["col6-aliases"] + "、个人自付金额"
    data["col3-choices"] = data["col3-choices"] + "\ninpatient = 住院治疗"
    response = client.post(reverse("screening:feed_edit", args=["medical"]), data)
    assert response.status_code == 302, _text(response)
    columns = {c["field"]: c for c in FeedSource.objects.get(slug="medical").columns}
    assert columns["out_of_pocket"]["header"] == "个人自付费用"
    assert "个人自付金额" in columns["out_of_pocket"]["aliases"]
    assert columns["visit_type"]["choices"]["住院治疗"] == "inpatient"
    event = AuditEvent.objects.get(target_type="screening.feedsource", action=AuditAction.UPDATE)
    assert event.actor == district_admin
    assert "个人自付费用" in _text(client.get(response["Location"]))


def test_mapping_problems_are_listed_in_chinese_and_the_input_kept(client, district_admin):
    client.force_login(district_admin)
    data = _edit_form(client, "medical")
    data["col1-header"] = "身份证号码"  # the ID column's header, now on 姓名 too
    data["col3-choices"] = "门诊就诊"  # not "value = labels"
    data["col5-header"] = ""
    response = client.post(reverse("screening:feed_edit", args=["medical"]), data)
    assert response.status_code == 200
    text = _text(response)
    assert "无法识别：门诊就诊" in text
    assert "请填写表头" in text
    assert 'value="身份证号码"' in response.content.decode()

    data = _edit_form(client, "medical")
    data["col1-header"] = "身份证号码"
    response = client.post(reverse("screening:feed_edit", args=["medical"]), data)
    assert "表头“身份证号码”同时指向字段“id_number”和“name”" in _text(response)
    assert FeedSource.objects.get(slug="medical").columns[1]["header"] == "姓名"


def test_a_change_that_breaks_a_rule_is_refused_naming_it(client, district_admin):
    client.force_login(district_admin)
    data = _edit_form(client, "medical")
    data["col3-choices"] = "outpatient = 普通门诊、门诊\nspecial_outpatient = 门特"
    response = client.post(reverse("screening:feed_edit", args=["medical"]), data)
    text = _text(response)
    assert "规则“单月住院自付较高”将无法使用" in text and "inpatient" in text
    assert FeedSource.objects.get(slug="medical").columns[3]["choices"]["住院"] == "inpatient"


def test_staff_cannot_edit_sources(client, district_staff):
    client.force_login(district_staff)
    assert client.get(reverse("screening:feed_edit", args=["medical"])).status_code == 403
    response = client.post(reverse("screening:feed_edit", args=["medical"]), {"name": "x"})
    assert response.status_code == 403


# --- upload and the batch page -----------------------------------------------------------


def test_upload_form_defaults_to_last_month_and_the_chosen_source(client, district_staff):
    from shouwang.screening.admin_forms import previous_month

    client.force_login(district_staff)
    html = client.get(reverse("screening:feed_upload") + "?source=water").content.decode()
    assert f'name="period" value="{previous_month()}"' in html
    assert '<option value="water" selected>' in html


def test_upload_then_batch_page_shows_counts_reasons_and_rejects(
    client, district_staff, django_capture_on_commit_callbacks
):
    household = f.make_household(f.VILLAGE_A)
    from shouwang.registry.services import member_reveal_id_number

    person = member_reveal_id_number(actor=None, member=household.members.order_by("id").first())
    client.force_login(district_staff)
    response = _upload(client, django_capture_on_commit_callbacks, medical_csv(_rows(person)))
    assert response.status_code == 302
    batch = FeedBatch.objects.get()
    assert response["Location"] == reverse("screening:batch_detail", args=[batch.pk])
    assert (batch.status, batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (
        BatchStatus.STAGED,
        4,
        2,
        2,
    )

    page = client.get(response["Location"])
    html, text = page.content.decode(), _text(page)
    assert "hx-trigger" not in html  # finished: no polling
    assert re.search(r"读取 4 接收 2 拒收 2", text)
    assert "身份证号码有误 1" in text and "不是可选值 1" in text
    assert "急诊" in text  # the first rejected rows, with their reasons
    assert batch.file_sha256 in text
    assert "医保.csv" in text and "2026-10 期" in text

    rejects = client.get(reverse("screening:batch_rejects", args=[batch.pk]))
    assert rejects.status_code == 200
    content = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert "12345" not in content or "*" in content
    assert len(content.strip().splitlines()) == 3  # header + two rejected rows

    # The staged rows are what screening reads: the household's 18,000 raises the medical alert.
    run = screening_run(actor=None, period=PERIOD, rule_slugs=["medical-out-of-pocket-12m"])
    assert run.alerts_new == 1 and run.batches == [batch.pk]


def test_the_same_file_twice_is_refused_with_the_input_kept(
    client, district_staff, django_capture_on_commit_callbacks
):
    client.force_login(district_staff)
    rows = _rows(f.next_id_number())
    _upload(client, django_capture_on_commit_callbacks, medical_csv(rows))
    first = FeedBatch.objects.get()
    again = _upload(client, django_capture_on_commit_callbacks, medical_csv(rows), period="2026-09")
    assert again.status_code == 200
    text = _text(again)
    assert "该文件已于" in text and f"批次 #{first.pk}" in text and "不再重复导入" in text
    html = again.content.decode()
    assert 'name="period" value="2026-09"' in html and '<option value="medical" selected>' in html
    assert FeedBatch.objects.count() == 1


def test_same_file_for_another_source_is_noted_on_the_batch_page(
    client, district_admin, django_capture_on_commit_callbacks
):
    client.force_login(district_admin)
    rows = _rows(f.next_id_number())
    _upload(client, django_capture_on_commit_callbacks, medical_csv(rows))
    _upload(client, django_capture_on_commit_callbacks, medical_csv(rows), source="illness")
    medical, illness = FeedBatch.objects.order_by("id")
    assert illness.status == BatchStatus.FAILED  # the illness source has other columns
    text = _text(client.get(reverse("screening:batch_detail", args=[illness.pk])))
    assert "同一文件（摘要相同）已有其他导入批次" in text and f"#{medical.pk}" in text
    assert "导入失败" in text or illness.message in text


def test_bad_period_and_file_type_are_reported(client, district_staff):
    client.force_login(district_staff)
    response = client.post(
        reverse("screening:feed_upload"),
        {
            "source": "medical",
            "period": "2026-13",
            "file": SimpleUploadedFile("医保.pdf", b"%PDF", "application/pdf"),
        },
    )
    text = _text(response)
    assert "期别“2026-13”格式不对" in text and "请上传 .xlsx、.xls 或 .csv 文件" in text
    assert 'value="2026-13"' in response.content.decode()
    assert not FeedBatch.objects.exists()


def test_a_queued_batch_page_polls_and_htmx_gets_the_status_only(client, district_staff):
    client.force_login(district_staff)
    # Submitted but not yet taken by the worker: on_commit never ran in this test transaction.
    batch = feed_batch_submit(
        actor=district_staff,
        source=FeedSource.objects.get(slug="medical"),
        file_name="医保.csv",
        chunks=[medical_csv(_rows(f.next_id_number())).read()],
        period=PERIOD,
    )
    url = reverse("screening:batch_detail", args=[batch.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "排队等待后台任务导入" in page
    FeedBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, rows_read=2500, rows_estimated=10000
    )
    partial = client.get(url, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="batch-status"') and "<html" not in body
    assert 'value="25" max="100"' in body and "已读取 2500 / 约 10000 行（25%）" in _text(partial)


def test_batch_list_filters_and_paginates(client, district_staff, settings):
    settings.SHOUWANG_PAGE_SIZE = 2
    for period in ("2026-08", "2026-09", "2026-10"):
        stage_rows("medical", [], period=period)
    stage_rows("water", [], period="2026-10")
    client.force_login(district_staff)
    url = reverse("screening:batch_list")
    first = _text(client.get(url))
    assert "共 4 个导入批次" in first and "第 1 / 2 页" in first
    only_water = _text(client.get(url, {"source": "water"}))
    assert "共 1 个导入批次" in only_water and "水利局农村供水中断" in only_water
    by_period = client.get(url, {"period": "2026-10"}, headers={"HX-Request": "true"})
    assert "共 2 个导入批次" in _text(by_period)
    assert by_period.content.decode().lstrip().startswith('<section id="batches"')


def test_deleting_a_batch(client, district_staff):
    batch = stage_rows("medical", [], period=PERIOD)
    client.force_login(district_staff)
    url = reverse("screening:batch_delete", args=[batch.pk])
    assert "确认删除" in _text(client.get(url))
    assert client.post(url).status_code == 302
    assert not FeedBatch.objects.filter(pk=batch.pk).exists()


# --- query counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "queries"),
    [("feed_list", [], 4), ("feed_detail", ["medical"], 5), ("batch_list", [], 5)],
)
def test_pages_take_the_same_queries_however_many_batches(
    client, district_staff, django_assert_num_queries, name, args, queries
):
    """Session, user, then the page's own reads: none per row."""
    client.force_login(district_staff)
    url = reverse(f"screening:{name}", args=args)
    for period in ("2026-07", "2026-08"):
        stage_rows("medical", [], period=period)
    with django_assert_num_queries(queries):
        client.get(url)
    for period in ("2026-09", "2026-10"):
        stage_rows("medical", [], period=period)
        stage_rows("water", [], period=period)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
