"""Hostile or broken department files are refused before they cost memory, and the batch says
in Chinese what is wrong: a spreadsheet that unpacks to far more than it weighs, random bytes
named .xlsx, a file too large, text in an encoding that is not read (as the registry import
does: tests/registry/test_hostile_files.py). Nothing is staged; the batch is marked failed."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from shouwang.screening.choices import BatchStatus
from shouwang.screening.feeds.services import feed_batch_import
from shouwang.screening.models import FeedBatch, FeedSource
from tests import factories as f

pytestmark = pytest.mark.django_db

MEDICAL_HEADER = ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"]
#: Latin letters a Chinese message may contain: file types and encodings by their names.
ALLOWED_LATIN = set("xlsxcsvUTFGBKBOMExcelCSVNUL")
NO_HEADER = "前 10 行中没有找到表头"


@pytest.fixture(autouse=True)
def feeds_dir(settings, tmp_path):
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    return settings.SHOUWANG_FEEDS_DIR


@pytest.fixture
def medical():
    return FeedSource.objects.get(slug="medical")


def medical_rows(count: int = 3) -> list[list[str]]:
    return [
        [f.next_id_number(), "张三", "2026-10-05", "住院", "18000", "向前村"] for _ in range(count)
    ]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MEDICAL_HEADER)
        writer.writerows(rows)
    return path


def staged_files(feeds_dir: Path) -> list[Path]:
    return sorted(feeds_dir.rglob("*.parquet")) if feeds_dir.exists() else []


def refused(source: FeedSource, path: Path, feeds_dir: Path) -> str:
    """Import ``path``; check nothing was staged and the batch failed; return its message."""
    staged_before = FeedBatch.objects.filter(status=BatchStatus.STAGED).count()
    batches_before = FeedBatch.objects.count()
    files_before = staged_files(feeds_dir)
    batch = feed_batch_import(actor=None, source=source, path=path, period="2026-10")
    assert FeedBatch.objects.count() == batches_before + 1
    assert FeedBatch.objects.filter(status=BatchStatus.STAGED).count() == staged_before
    assert staged_files(feeds_dir) == files_before
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert (batch.rows_accepted, batch.parquet_path) == (0, "")
    assert batch.error_counts == {"file": 1}
    assert batch.message and batch.errors[0]["message"] == batch.message
    assert NO_HEADER not in batch.message or "编码" in batch.message
    return batch.message


def chinese_only(message: str) -> None:
    latin = [ch for ch in message if ch.isascii() and ch.isalpha()]
    assert set(latin) <= ALLOWED_LATIN, f"English in the message: {message}"


def spaces_bomb(path: Path, megabytes: int) -> Path:
    """An archive with a sheet of ``megabytes`` MB of one repeated byte, written in pieces."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            piece = b" " * (1024 * 1024)
            for _ in range(megabytes):
                sheet.write(piece)
    return path


# -- spreadsheets ---------------------------------------------------------------------------


def test_a_spreadsheet_that_unpacks_a_thousand_times_its_size_is_refused_unread(
    tmp_path, medical, feeds_dir
):
    bomb = spaces_bomb(tmp_path / "炸弹.xlsx", 64)
    assert bomb.stat().st_size < 1024 * 1024
    message = refused(medical, bomb, feeds_dir)
    assert "压缩比异常" in message and "已拒绝读取" in message
    chinese_only(message)


def test_refusing_a_bomb_costs_no_memory(tmp_path):
    """In a fresh process: staging a 256 MB bomb (under 1 MB on disk) leaves the peak memory
    where it was; the spreadsheet reader would have unpacked the sheet in memory."""
    bomb = spaces_bomb(tmp_path / "炸弹.xlsx", 256)
    script = f"""
import json, os, resource, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.base")
import django
django.setup()
from pathlib import Path
from shouwang.screening.feeds.ingest import DivisionResolver, stage_feed_file
from shouwang.screening.sources import DEFAULT_SOURCES
columns = list(DEFAULT_SOURCES[0].columns)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = Path({str(tmp_path)!r}) / "out.parquet"
result = stage_feed_file(path=Path({str(bomb)!r}), columns=columns, batch_id=1,
    period="2026-10", out_path=out, rejects_path=out.with_suffix(".csv"),
    divisions=DivisionResolver([]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"before": before, "after": after, "error": result.file_error,
                   "staged": out.exists()}}))
"""
    env = {**os.environ, "SHOUWANG_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert "压缩比异常" in measured["error"] and not measured["staged"]
    grown_mib = (measured["after"] - measured["before"]) / 1024
    assert grown_mib < 32, measured


def test_a_spreadsheet_over_the_unpacked_limit_is_refused(tmp_path, settings, medical, feeds_dir):
    settings.SHOUWANG_IMPORT_MAX_UNPACKED_MB = 1
    big = tmp_path / "大.xlsx"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", os.urandom(2 * 1024 * 1024))
    message = refused(medical, big, feeds_dir)
    assert "超过导入上限 1 MB" in message and "分成几个文件" in message


@pytest.mark.parametrize("name", ["随机.xlsx", "随机.xls", "随机.xlsm"])
def test_random_bytes_named_as_excel_say_so_in_chinese(tmp_path, medical, feeds_dir, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(4096))
    message = refused(medical, path, feeds_dir)
    assert "文件已损坏或不是 Excel 文件" in message
    chinese_only(message)


def test_a_sheet_with_too_many_rows_is_refused_before_reading_it(
    tmp_path, settings, medical, feeds_dir
):
    settings.SHOUWANG_IMPORT_MAX_ROWS = 3
    path = tmp_path / "多.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for number, row in enumerate([MEDICAL_HEADER, *medical_rows(5)]):
        sheet.write_row(number, 0, row)
    book.close()
    message = refused(medical, path, feeds_dir)
    assert "超过导入上限 3 行" in message


# -- text files -----------------------------------------------------------------------------


def test_too_many_lines_are_refused_before_reading(tmp_path, settings, medical, feeds_dir):
    settings.SHOUWANG_IMPORT_MAX_ROWS = 3
    path = write_csv(tmp_path / "多.csv", medical_rows(5))
    message = refused(medical, path, feeds_dir)
    assert "超过导入上限 3 行" in message


def test_too_many_columns_are_refused(tmp_path, medical, feeds_dir):
    path = tmp_path / "宽.csv"
    path.write_bytes(",".join(MEDICAL_HEADER).encode() + b",x" * 400_000 + b"\n")
    message = refused(medical, path, feeds_dir)
    assert "超过上限 300 列" in message


def test_an_endless_first_line_is_refused_without_holding_it(tmp_path, medical, feeds_dir):
    path = tmp_path / "一行.csv"
    with path.open("wb") as handle:
        for _ in range(8):
            handle.write(b"a" * (1024 * 1024))
    message = refused(medical, path, feeds_dir)
    assert "没有一行完整的记录" in message
    chinese_only(message)


def test_an_unclosed_quote_is_said_in_chinese(tmp_path, medical, feeds_dir):
    path = write_csv(tmp_path / "引号.csv", medical_rows(3))
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(f'{f.next_id_number()},"张三,2026-10-05,住院,1,\r\n')
        handle.write("没有结束的引号" * 1_000_000)
    message = refused(medical, path, feeds_dir)
    assert "无法读取" in message and "不成对的引号" in message
    chinese_only(message)


def test_a_big5_file_is_named_as_big5_with_the_encodings_read(tmp_path, medical, feeds_dir):
    path = tmp_path / "繁体.csv"
    path.write_bytes(
        "身份證號碼,姓名,結算日期,就診類別,個人自付金額\n500156,陳大文,2026-10-01,住院,1\n".encode(
            "big5"
        )
    )
    message = refused(medical, path, feeds_dir)
    assert "Big5" in message and "UTF-8" in message and "GB18030" in message
    assert NO_HEADER not in message


def test_garbage_bytes_name_the_encodings_that_are_read(tmp_path, medical, feeds_dir):
    path = tmp_path / "乱码.csv"
    path.write_bytes(bytes(range(0x80, 0x100)) * 40 + b"\n")
    message = refused(medical, path, feeds_dir)
    assert "无法识别的字符" in message or NO_HEADER in message
    assert "UTF-8" in message and "GB18030" in message
    chinese_only(message)


def test_a_utf16_file_without_bom_is_named(tmp_path, medical, feeds_dir):
    path = tmp_path / "utf16.csv"
    path.write_bytes((",".join(MEDICAL_HEADER) + "\n").encode("utf-16-le"))
    message = refused(medical, path, feeds_dir)
    assert "UTF-16" in message and NO_HEADER not in message


@pytest.mark.parametrize(
    ("magic", "kind"), [(b"PK\x03\x04", ".xlsx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls")]
)
def test_a_spreadsheet_named_csv_says_so(tmp_path, medical, feeds_dir, magic, kind):
    path = tmp_path / "名单.csv"
    path.write_bytes(magic + os.urandom(2048))
    message = refused(medical, path, feeds_dir)
    assert f"文件内容是 Excel 表格（{kind}）" in message and "扩展名却是 .csv" in message


def test_bad_bytes_after_good_rows_refuse_the_file_in_chinese(tmp_path, medical, feeds_dir):
    # Past the start the header is looked for in: found while the rows stream.
    path = write_csv(tmp_path / "坏.csv", medical_rows(2000), encoding="gb18030")
    with path.open("ab") as handle:
        handle.write(b"\xff\xfe,broken,2026-10-01,\xff,1,\r\n")
    message = refused(medical, path, feeds_dir)
    assert re.search(r"第 \d+ 行之后的内容无法读取", message) and "GB18030" in message
    chinese_only(message)


def test_a_gb18030_file_still_stages(tmp_path, medical, feeds_dir):
    path = write_csv(tmp_path / "gbk.csv", medical_rows(3), encoding="gb18030")
    staged_before = FeedBatch.objects.filter(status=BatchStatus.STAGED).count()
    batch = feed_batch_import(actor=None, source=medical, path=path, period="2026-10")
    assert batch.status == BatchStatus.STAGED and batch.rows_accepted == 3
    assert FeedBatch.objects.filter(status=BatchStatus.STAGED).count() == staged_before + 1
    assert len(staged_files(feeds_dir)) == 1
