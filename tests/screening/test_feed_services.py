"""Feed import services and selectors: batches, duplicates, permissions, uploads, templates."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from shouwang.core.choices import AuditAction
from shouwang.core.crypto import blind_index
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.screening.choices import BatchStatus
from shouwang.screening.compiler import feed_table_name
from shouwang.screening.feeds import services
from shouwang.screening.feeds.schema import feed_arrow_schema
from shouwang.screening.feeds.selectors import (
    feed_batch_get,
    feed_batch_latest,
    feed_batch_list,
    feed_source_get,
    feed_source_list,
    staged_feed_inputs,
)
from shouwang.screening.feeds.services import (
    feed_batch_delete,
    feed_batch_execute,
    feed_batch_import,
    feed_batch_paths,
    feed_batch_submit,
    feed_batches_fail_interrupted,
    feed_template_write,
    feed_upload_path,
)
from shouwang.screening.models import FeedBatch, FeedSource
from shouwang.screening.rules import source_columns
from shouwang.screening.sources import DEFAULT_SOURCE_SLUGS, parse_columns
from tests import factories as f

pytestmark = pytest.mark.django_db

MEDICAL_HEADER = ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"]


@pytest.fixture(autouse=True)
def feeds_dir(settings, tmp_path):
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    return settings.SHOUWANG_FEEDS_DIR


@pytest.fixture
def medical():
    return FeedSource.objects.get(slug="medical")


def medical_file(
    path: Path, rows: list[list[str]] | None = None, encoding: str = "gb18030"
) -> Path:
    if rows is None:
        rows = [
            [f.next_id_number(), "张三", "2026-10-05", "住院", "18000", "向前村"],
            [f.next_id_number(), "李四", "2026/10/6", "门诊", "12.5", ""],
            ["12345", "王五", "2026-10-07", "住院", "1", ""],
        ]
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MEDICAL_HEADER)
        writer.writerows(rows)
    return path


# -- import ---------------------------------------------------------------------------------


def test_import_stages_rows_and_records_the_batch(tmp_path, medical, district_staff, feeds_dir):
    person = f.next_id_number()
    path = medical_file(
        tmp_path / "医保 10 月.csv",
        [
            [person, "张三", "2026-10-05", "住院", "18000", "向前村"],
            ["12345", "王五", "2026-10-07", "住院", "1", ""],
        ],
    )
    batch = feed_batch_import(
        actor=district_staff, source=medical, path=path, file_name=path.name, period="2026-10"
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STAGED
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (2, 1, 1)
    assert batch.rows_estimated >= 2
    assert batch.period == "2026-10" and batch.file_name == "医保 10 月.csv"
    assert batch.file_size == path.stat().st_size and len(batch.file_sha256) == 64
    assert batch.actor == district_staff
    assert batch.started_at and batch.finished_at
    parquet, rejects = feed_batch_paths(batch)
    assert parquet == Path(feeds_dir) / "medical" / f"{batch.pk}.parquet"
    assert batch.parquet_path == str(parquet) and batch.rejects_path == str(rejects)
    (row,) = pq.read_table(parquet).to_pylist()
    assert row["batch_id"] == batch.pk and row["row_number"] == 2
    assert row["person_index"] == blind_index(person)
    assert row["out_of_pocket"] == Decimal("18000.00")
    assert batch.errors == [
        {"row": 3, "column": "身份证号码", "message": "身份证号码应为 18 位，实际为 5 位"}
    ]
    assert batch.error_counts == {"id_number": 1}
    assert batch.message == "接收 1 行，拒收 1 行；身份证号码有误 1"
    assert batch.progress_percent == 100
    event = AuditEvent.objects.get(action=AuditAction.IMPORT, target_id=str(batch.pk))
    assert event.actor == district_staff
    assert event.target_type == "screening.feedbatch"
    assert event.extra["source"] == "medical" and event.extra["status"] == "staged"
    assert event.extra["rows_accepted"] == 1 and event.extra["sha256"] == batch.file_sha256


def test_the_same_file_is_not_staged_twice(tmp_path, medical):
    path = medical_file(tmp_path / "a.csv")
    first = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(ApplicationError) as refused:
        feed_batch_import(actor=None, source=medical, path=copy, period="2026-11")
    assert f"（批次 #{first.pk}，期别 2026-10）" in refused.value.message
    assert refused.value.message.startswith("该文件已于 ")
    assert FeedBatch.objects.count() == 1
    # Once the batch is deleted the file may come in again.
    feed_batch_delete(actor=None, batch=first)
    again = feed_batch_import(actor=None, source=medical, path=copy, period="2026-10")
    assert again.status == BatchStatus.STAGED


def test_the_same_file_for_another_source_is_its_own_import(tmp_path, medical):
    path = tmp_path / "w.csv"
    path.write_text("身份证号码,变动日期,变动类型\n", encoding="utf-8")
    feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    other = FeedSource.objects.get(slug="civil-registration")
    batch = feed_batch_import(actor=None, source=other, path=path, period="2026-10")
    assert batch.source == other


def test_a_refused_file_fails_the_batch_and_may_be_retried(tmp_path, medical):
    path = tmp_path / "bad.csv"
    path.write_text("身份证号码,姓名\n" + f.next_id_number() + ",张三\n", encoding="utf-8")
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.FAILED
    assert batch.message.startswith("缺少必需的列：结算日期")
    assert batch.parquet_path == "" and batch.rows_accepted == 0
    assert not feed_batch_paths(batch)[0].exists()
    assert Path(batch.rejects_path).exists()
    assert (
        AuditEvent.objects.get(action=AuditAction.IMPORT, target_id=str(batch.pk)).extra["status"]
        == "failed"
    )
    again = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert again.pk != batch.pk and again.status == BatchStatus.FAILED


def test_a_file_with_no_acceptable_row_is_not_staged(tmp_path, medical):
    path = medical_file(tmp_path / "a.csv", [["1", "张三", "2026-10-05", "住院", "1", ""]])
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.FAILED
    assert batch.message.startswith("没有可接收的行：1 行全部拒收")
    assert (batch.rows_read, batch.rows_rejected, batch.rows_accepted) == (1, 1, 0)
    empty = medical_file(tmp_path / "empty.csv", [])
    batch = feed_batch_import(actor=None, source=medical, path=empty, period="2026-10")
    assert (batch.status, batch.message) == (BatchStatus.FAILED, "文件中没有数据行")


def test_unresolved_villages_are_mentioned(tmp_path, medical):
    path = medical_file(
        tmp_path / "a.csv", [[f.next_id_number(), "张三", "2026-10-05", "住院", "1", "外地某村"]]
    )
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.STAGED
    assert "1 行的村（社区）未能识别，已接收但村（社区）留空" in batch.message


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "期别“2026-13”格式不对，应为 年-月，例如 2026-10"),
        ("202610", "期别“202610”格式不对，应为 年-月，例如 2026-10"),
        ("2099-01", "期别“2099-01”不在合理范围内"),
    ],
)
def test_period_is_checked(tmp_path, medical, period, message):
    path = medical_file(tmp_path / "a.csv")
    with pytest.raises(ApplicationError) as refused:
        feed_batch_import(actor=None, source=medical, path=path, period=period)
    assert refused.value.message == message
    assert not FeedBatch.objects.exists()


def test_period_is_normalised(tmp_path, medical):
    batch = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "a.csv"), period=" 2026-9 "
    )
    assert batch.period == "2026-09"


def test_who_may_import(tmp_path, medical, village_cadre, township_staff, department_officer):
    path = medical_file(tmp_path / "a.csv")
    water = FeedSource.objects.get(slug="water")
    for actor in (village_cadre, township_staff):
        with pytest.raises(PermissionDenied):
            feed_batch_import(actor=actor, source=medical, path=path, period="2026-10")
    with pytest.raises(PermissionDenied) as refused:
        feed_batch_import(actor=department_officer, source=water, path=path, period="2026-10")
    assert "水利局农村供水中断" in refused.value.message
    batch = feed_batch_import(actor=department_officer, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.STAGED and batch.actor == department_officer


def test_inactive_source_and_wrong_file_type_are_refused(tmp_path, medical):
    path = medical_file(tmp_path / "a.csv")
    with pytest.raises(ApplicationError, match="不支持的文件类型“.txt”"):
        feed_batch_import(
            actor=None, source=medical, path=path, file_name="a.txt", period="2026-10"
        )
    medical.active = False
    medical.save()
    with pytest.raises(ApplicationError, match="已停用"):
        feed_batch_import(actor=None, source=medical, path=path, period="2026-10")


def test_progress_is_written_to_the_batch(tmp_path, medical, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_INTERVAL_SECONDS", 0)
    seen: list[tuple[int, int, str]] = []

    def progress(done: int, total: int) -> None:
        batch = FeedBatch.objects.get()
        seen.append((batch.rows_read, batch.rows_estimated, batch.status))

    rows = [[f.next_id_number(), "张三", "2026-10-05", "住院", "1", ""] for _ in range(5)]
    feed_batch_import(
        actor=None,
        source=medical,
        path=medical_file(tmp_path / "a.csv", rows),
        period="2026-10",
        progress=progress,
    )
    assert seen == [(5, 5, BatchStatus.RUNNING)]


def test_a_concurrent_import_of_the_same_file_wins(tmp_path, medical):
    """Another import stages the same file while this one runs: this one ends failed."""
    path = medical_file(tmp_path / "a.csv")

    def progress(done: int, total: int) -> None:
        running = FeedBatch.objects.get()
        FeedBatch.objects.create(
            source=medical,
            period="2026-10",
            file_name="a.csv",
            file_sha256=running.file_sha256,
            status=BatchStatus.STAGED,
        )

    batch = feed_batch_import(
        actor=None, source=medical, path=path, period="2026-10", progress=progress
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.message == "该文件已由另一次导入入库，本次未重复入库"
    assert not feed_batch_paths(batch)[0].exists()


# -- uploads --------------------------------------------------------------------------------


def test_upload_is_imported_by_the_worker_after_commit(
    tmp_path, medical, district_staff, django_capture_on_commit_callbacks
):
    data = medical_file(tmp_path / "a.csv").read_bytes()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = feed_batch_submit(
            actor=district_staff,
            source=medical,
            file_name="../医保.csv",
            chunks=[data[:10], data[10:]],
            period="2026-10",
        )
        assert batch.status == BatchStatus.QUEUED
        assert feed_upload_path(batch).read_bytes() == data
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert batch.file_name == "医保.csv" and batch.file_size == len(data)
    assert batch.status == BatchStatus.STAGED and batch.rows_accepted == 2
    assert not feed_upload_path(batch).exists()  # the raw file is not kept
    with pytest.raises(ApplicationError, match="已于"):
        feed_batch_submit(
            actor=district_staff,
            source=medical,
            file_name="again.csv",
            chunks=[data],
            period="2026-10",
        )


def test_upload_checks_come_first(tmp_path, medical, village_cadre, district_staff, feeds_dir):
    with pytest.raises(PermissionDenied):
        feed_batch_submit(
            actor=village_cadre, source=medical, file_name="a.csv", chunks=[b"x"], period="2026-10"
        )
    with pytest.raises(ApplicationError, match="不支持的文件类型"):
        feed_batch_submit(
            actor=district_staff, source=medical, file_name="a.pdf", chunks=[b"x"], period="2026-10"
        )
    with pytest.raises(ApplicationError, match="格式不对"):
        feed_batch_submit(
            actor=district_staff, source=medical, file_name="a.csv", chunks=[b"x"], period="10月"
        )
    assert not FeedBatch.objects.exists()


def test_a_queued_upload_waits_while_another_import_of_it_is_pending(
    tmp_path, medical, district_staff
):
    data = medical_file(tmp_path / "a.csv").read_bytes()
    feed_batch_submit(
        actor=district_staff, source=medical, file_name="a.csv", chunks=[data], period="2026-10"
    )
    with pytest.raises(ApplicationError, match="正在导入"):
        feed_batch_submit(
            actor=district_staff, source=medical, file_name="b.csv", chunks=[data], period="2026-10"
        )


def test_execute_handles_gone_uploads_and_batches_already_run(tmp_path, medical, district_staff):
    data = medical_file(tmp_path / "a.csv").read_bytes()
    batch = feed_batch_submit(
        actor=district_staff, source=medical, file_name="a.csv", chunks=[data], period="2026-10"
    )
    feed_upload_path(batch).unlink()
    assert feed_batch_execute(batch.pk).status == BatchStatus.FAILED
    batch.refresh_from_db()
    assert batch.message == "上传的文件已不存在，请重新上传"
    assert feed_batch_execute(batch.pk).status == BatchStatus.FAILED  # not run again
    assert feed_batch_execute(batch.pk + 1000) is None


def test_interrupted_imports_are_marked_failed(medical):
    running = FeedBatch.objects.create(
        source=medical,
        period="2026-10",
        file_name="a.csv",
        file_sha256="a" * 64,
        status=BatchStatus.RUNNING,
    )
    staged = FeedBatch.objects.create(
        source=medical,
        period="2026-10",
        file_name="b.csv",
        file_sha256="b" * 64,
        status=BatchStatus.STAGED,
    )
    assert feed_batches_fail_interrupted() == 1
    running.refresh_from_db()
    staged.refresh_from_db()
    assert running.status == BatchStatus.FAILED and "中断" in running.message
    assert staged.status == BatchStatus.STAGED


# -- delete ---------------------------------------------------------------------------------


def test_delete_removes_the_batch_and_its_files_after_commit(
    tmp_path, medical, district_admin, department_officer, django_capture_on_commit_callbacks
):
    batch = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "a.csv"), period="2026-10"
    )
    parquet, rejects = Path(batch.parquet_path), Path(batch.rejects_path)
    assert parquet.exists() and rejects.exists()
    water_batch = feed_batch_import(
        actor=None,
        source=FeedSource.objects.get(slug="water"),
        path=_water_file(tmp_path / "w.csv"),
        period="2026-10",
    )
    with pytest.raises(PermissionDenied):
        feed_batch_delete(actor=department_officer, batch=water_batch)
    with django_capture_on_commit_callbacks(execute=True):
        feed_batch_delete(actor=district_admin, batch=batch)
    assert not FeedBatch.objects.filter(pk=batch.pk).exists()
    assert not parquet.exists() and not rejects.exists()
    event = AuditEvent.objects.get(action=AuditAction.DELETE, target_type="screening.feedbatch")
    assert event.actor == district_admin and event.before["file_name"] == "a.csv"


def test_a_running_batch_cannot_be_deleted(medical):
    batch = FeedBatch.objects.create(
        source=medical,
        period="2026-10",
        file_name="a.csv",
        file_sha256="a" * 64,
        status=BatchStatus.RUNNING,
    )
    with pytest.raises(ApplicationError, match="正在导入"):
        feed_batch_delete(actor=None, batch=batch)


def _water_file(path: Path) -> Path:
    path.write_text("村（社区）,停水日期,停水天数\n向前村,2026-10-02,3\n", encoding="utf-8")
    return path


# -- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", DEFAULT_SOURCE_SLUGS)
def test_xlsx_template_has_the_headers_and_imports_as_empty(tmp_path, slug):
    source = FeedSource.objects.get(slug=slug)
    path = tmp_path / f"{slug}.xlsx"
    feed_template_write(source=source, path=path)
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == [c.header for c in parse_columns(source.columns)]
    # The ID column is formatted as text so Excel keeps all 18 characters.
    with zipfile.ZipFile(path) as archive:
        styles = archive.read("xl/styles.xml").decode()
    assert 'formatCode="@"' in styles or 'numFmtId="49"' in styles
    batch = feed_batch_import(actor=None, source=source, path=path, period="2026-10")
    assert (batch.status, batch.message) == (BatchStatus.FAILED, "文件中没有数据行")


def test_csv_template_is_utf8_with_bom(tmp_path, medical):
    path = tmp_path / "medical.csv"
    feed_template_write(source=medical, path=path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").strip().split(",") == [
        c.header for c in parse_columns(medical.columns)
    ]
    with pytest.raises(ApplicationError, match=r"\.xlsx 或 \.csv"):
        feed_template_write(source=medical, path=tmp_path / "medical.pdf")


def test_filled_template_imports(tmp_path, medical):
    path = tmp_path / "medical.csv"
    feed_template_write(source=medical, path=path)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(
            [f.next_id_number(), "张三", "2026-10-01", "住院", "100", "80", "20", "肺炎", "向前村"]
        )
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.STAGED and batch.rows_accepted == 1


# -- selectors ------------------------------------------------------------------------------


def test_batches_are_visible_to_the_district_and_the_department(
    tmp_path,
    medical,
    district_staff,
    district_admin,
    department_officer,
    village_cadre,
    township_staff,
):
    medical_batch = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "a.csv"), period="2026-10"
    )
    water_batch = feed_batch_import(
        actor=None,
        source=FeedSource.objects.get(slug="water"),
        path=_water_file(tmp_path / "w.csv"),
        period="2026-10",
    )
    for actor in (None, district_staff, district_admin):
        assert set(feed_batch_list(actor=actor)) == {medical_batch, water_batch}
    assert list(feed_batch_list(actor=department_officer)) == [medical_batch]
    assert feed_batch_get(actor=department_officer, pk=medical_batch.pk) == medical_batch
    with pytest.raises(FeedBatch.DoesNotExist):
        feed_batch_get(actor=department_officer, pk=water_batch.pk)
    for actor in (village_cadre, township_staff):
        assert not feed_batch_list(actor=actor).exists()
    assert feed_batch_latest(actor=department_officer) == {medical.pk: medical_batch}


def test_sources_for_officers_are_their_departments(department_officer, district_staff):
    assert [s.slug for s in feed_source_list(actor=department_officer)] == ["medical"]
    assert len(feed_source_list(actor=district_staff)) == len(DEFAULT_SOURCE_SLUGS)
    assert feed_source_get(actor=district_staff, slug="water").slug == "water"
    with pytest.raises(FeedSource.DoesNotExist):
        feed_source_get(actor=department_officer, slug="water")
    FeedSource.objects.filter(slug="water").update(active=False)
    assert "water" not in {s.slug for s in feed_source_list(actor=None, active=True)}


def test_staged_feed_inputs_for_screening(tmp_path, medical):
    first = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "a.csv"), period="2026-09"
    )
    second = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "b.csv"), period="2026-10"
    )
    feed_batch_import(  # failed: not an input
        actor=None,
        source=medical,
        path=medical_file(tmp_path / "c.csv", [["1", "x", "x", "x", "x", ""]]),
        period="2026-10",
    )
    gone = feed_batch_import(
        actor=None, source=medical, path=medical_file(tmp_path / "d.csv"), period="2026-10"
    )
    Path(gone.parquet_path).unlink()
    water_path = tmp_path / "water.csv"
    water_path.write_text("村（社区）,停水日期,停水天数\n向前村,2026-10-03,9\n", encoding="utf-8")
    water = feed_batch_import(
        actor=None, source=FeedSource.objects.get(slug="water"), path=water_path, period="2026-10"
    )
    FeedSource.objects.filter(slug="water").update(active=False)
    inputs, batch_ids, rows = staged_feed_inputs(source_columns())
    # An inactive source stays a table, so rules over it compile, but its files are left out.
    assert set(inputs) == {feed_table_name(s) for s in DEFAULT_SOURCE_SLUGS}
    assert inputs[feed_table_name("water")].paths == ()
    assert water.status == BatchStatus.STAGED
    assert inputs["feed_medical"].paths == (Path(first.parquet_path), Path(second.parquet_path))
    assert inputs["feed_medical"].schema == feed_arrow_schema(parse_columns(medical.columns))
    assert inputs["feed_civil_registration"].paths == ()
    assert batch_ids == [first.pk, second.pk]
    assert rows == first.rows_accepted + second.rows_accepted == 4
    # The staged files read back as one table with that schema.
    table = pq.read_table(list(inputs["feed_medical"].paths), schema=inputs["feed_medical"].schema)
    assert table.num_rows == 4
    assert set(table.column("batch_id").to_pylist()) == {first.pk, second.pk}


def test_an_imported_feed_raises_alerts_in_a_screening_run(tmp_path, medical, settings):
    """The staged file is what the engines read: a registered member's large out-of-pocket
    spending and an unregistered resident's both come out as alerts."""
    from shouwang.screening.models import Alert
    from shouwang.screening.services import screening_run

    settings.SHOUWANG_SCREENING_DIR = tmp_path / "screening"
    household = f.make_household(members=1)
    member_id = f.next_id_number(birth=dt.date(1975, 3, 2))
    f.make_member(household, id_number=member_id, name="冉秀英", relation="spouse")
    outsider = f.next_id_number(birth=dt.date(1958, 8, 8))
    path = medical_file(
        tmp_path / "m.csv",
        [
            [member_id, "冉秀英", "2026-10-05", "住院", "¥40,000.00", "向前村"],
            [outsider, "王五", "2026/10/6", "住院", "60000", "火炉镇火炉社区"],
        ],
    )
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.STAGED
    run = screening_run(actor=None, period="2026-10")
    assert run.status == "succeeded", run.message
    alerts = Alert.objects.filter(rule__spec__feed="medical")
    assert {a.household_id for a in alerts if not a.unregistered} == {household.pk}
    unregistered = [a for a in alerts if a.unregistered]
    assert unregistered
    assert {(a.person_index, a.division_id, a.placed_by) for a in unregistered} == {
        (blind_index(outsider), f.VILLAGE_B, "feed")
    }
    assert batch.pk in run.batches
