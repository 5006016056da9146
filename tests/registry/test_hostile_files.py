"""Hostile or broken files are refused before they cost memory, and the refusal says in
Chinese what is wrong: a spreadsheet that unpacks to far more than it weighs, random bytes
named .xlsx, a file too large, one endless line, text in an encoding that is not read."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from shouwang.core.idnumber import make_id_number
from shouwang.registry import choices as c
from shouwang.registry.io.columns import IMPORT_COLUMNS
from shouwang.registry.io.services import registry_import
from shouwang.registry.models import Household, ImportJobStatus, Member
from tests.registry.test_io import (
    HEADERS,
    household_values,
    member_values,
    row_cells,
    sample_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db


def _only_error(report) -> str:
    assert report.result is None and len(report.errors) == 1, report.errors
    return report.errors[0]["message"]


def _ascii_free_of_english(message: str) -> None:
    letters = [ch for ch in message if ch.isascii() and ch.isalpha()]
    allowed = set("xlsxUTFGBKBOMExcelCSV")
    assert all(ch in allowed for ch in letters), f"English in the message: {message}"


def _registered_rows() -> list[dict[str, str]]:
    """Two households of 向前村, three members. Their ID numbers are fixed rather than taken
    from the factories' sequence, so these tests leave the numbers other modules draw as
    they were."""
    ids = [make_id_number("500156", dt.date(1961, 1, 1), sequence) for sequence in (11, 12, 13)]
    first, second = household_values("5001561042000001"), household_values("5001561042000002")
    return [
        row_cells(first, member_values(ids[0])),
        row_cells(first, member_values(ids[1], c.Relation.SPOUSE, name="李梅")),
        row_cells(second, member_values(ids[2], name="冉光")),
    ]


def _refused_writing_nothing(path: Path) -> str:
    """Import ``path`` over a registry that holds households already; check the job was
    refused and nothing was written; return its message."""
    earlier = registry_import(
        actor=None, path=write_csv(path.with_name("先.csv"), _registered_rows())
    )
    assert earlier.errors == []
    households, members = Household.objects.count(), Member.objects.count()
    assert (households, members) == (2, 3)
    report = registry_import(actor=None, path=path)
    message = _only_error(report)
    report.job.refresh_from_db()
    assert report.job.status == ImportJobStatus.REJECTED
    assert report.job.errors == report.errors
    assert (Household.objects.count(), Member.objects.count()) == (households, members)
    return message


#: A row of ten million short cells: 30 MB.
ENDLESS_CELLS = 10_000_000


def _write_endless(path: Path, *, header: bool) -> Path:
    """A 30 MB file: the import's header and one line of ten million cells, or (no header)
    that line alone with no line break anywhere."""
    with path.open("wb") as handle:
        if header:
            handle.write(",".join(c.header for c in IMPORT_COLUMNS).encode() + b"\r\n")
        piece = b"ab," * 1_000_000
        for _ in range(ENDLESS_CELLS // 1_000_000):
            handle.write(piece)
    return path


def test_a_header_then_a_line_of_ten_million_cells_is_refused(tmp_path):
    path = _write_endless(tmp_path / "一行.csv", header=True)
    message = _refused_writing_nothing(path)
    assert message == "第 2 行超过 1 MB 仍未结束，不是正常的表格文件，已拒绝读取"
    _ascii_free_of_english(message)


def test_a_file_with_no_line_break_is_refused(tmp_path):
    path = _write_endless(tmp_path / "无换行.csv", header=False)
    message = _refused_writing_nothing(path)
    assert message == "文件开头 1 MB 内没有一行完整的记录，不是正常的表格文件，已拒绝读取"
    _ascii_free_of_english(message)


def test_refusing_an_endless_line_costs_no_memory(tmp_path):
    """In a fresh process: reading either endless file leaves the peak memory where it was;
    the CSV reader would have held the line and its ten million cells (over 700 MB)."""
    paths = [
        _write_endless(tmp_path / "一行.csv", header=True),
        _write_endless(tmp_path / "无换行.csv", header=False),
    ]
    script = f"""
import json, os, resource
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.base")
import django
django.setup()
from pathlib import Path
from shouwang.registry.io.parsing import FileRejected, parse_table
from shouwang.registry.io.readers import UnreadableFile, open_table
for path in {[str(p) for p in paths]!r}:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        _layout, rows = parse_table(open_table(Path(path)))
        error, read = "", sum(1 for _row in rows)
    except UnreadableFile as exc:
        error, read = exc.message, 0
    except FileRejected as exc:
        error, read = exc.errors[0].message, 0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"before": before, "after": after, "error": error, "rows": read}}))
"""
    env = {**os.environ, "SHOUWANG_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    measured = [json.loads(line) for line in done.stdout.strip().splitlines()[-2:]]
    for each in measured:
        grown_mib = (each["after"] - each["before"]) / 1024
        assert grown_mib < 32, measured
    assert "第 2 行超过 1 MB" in measured[0]["error"]
    assert "没有一行完整的记录" in measured[1]["error"]
    assert [each["rows"] for each in measured] == [0, 0]


def test_a_header_too_wide_is_refused_before_parsing(tmp_path):
    path = tmp_path / "宽.csv"
    header = ",".join(c.header for c in IMPORT_COLUMNS)
    path.write_bytes(header.encode() + b",x" * 400_000 + b"\n")
    message = _refused_writing_nothing(path)
    assert "文件有 400045 列，超过上限 300 列" in message


def test_an_unclosed_quote_is_said_in_chinese(tmp_path):
    path = write_csv(tmp_path / "引号.csv", _registered_rows())
    with path.open("a", encoding="utf-8", newline="") as handle:
        # The quote stays open over short lines: the cell outgrows the CSV reader's limit.
        handle.write('5001561042000009,"没有结束的引号\r\n' + "没有结束的引号\r\n" * 20_000)
    message = _refused_writing_nothing(path)
    assert "第 5 行附近的 CSV 格式有误" in message and "个字符的单元格" in message
    _ascii_free_of_english(message)


@pytest.mark.parametrize(
    ("magic", "kind"), [(b"PK\x03\x04", ".xlsx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls")]
)
def test_a_spreadsheet_named_csv_says_so(tmp_path, magic, kind):
    path = tmp_path / "名单.csv"
    path.write_bytes(magic + os.urandom(2048))
    message = _refused_writing_nothing(path)
    assert f"文件内容是 Excel 表格（{kind}）" in message and "扩展名却是 .csv" in message


def test_a_spreadsheet_that_unpacks_a_thousand_times_its_size_is_refused_unread(tmp_path):
    bomb = tmp_path / "炸弹.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # 64 MB of one repeated byte: a few dozen KB on disk.
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (64 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    message = _only_error(registry_import(actor=None, path=bomb))
    assert "压缩比异常" in message
    assert not Household.objects.exists()


def test_a_spreadsheet_over_the_unpacked_limit_is_refused(tmp_path, settings):
    settings.SHOUWANG_IMPORT_MAX_UNPACKED_MB = 1
    big = tmp_path / "大.xlsx"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", os.urandom(2 * 1024 * 1024))
    message = _only_error(registry_import(actor=None, path=big))
    assert "超过导入上限 1 MB" in message and "分成几个文件" in message


@pytest.mark.parametrize("name", ["随机.xlsx", "随机.xls"])
def test_random_bytes_named_as_excel_say_so_in_chinese(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(4096))
    message = _only_error(registry_import(actor=None, path=path))
    assert "文件已损坏或不是 Excel 文件" in message
    _ascii_free_of_english(message)


def test_too_many_rows_are_refused_before_reading(tmp_path, settings):
    settings.SHOUWANG_IMPORT_MAX_ROWS = 3
    path = write_csv(tmp_path / "多.csv", sample_rows())
    message = _only_error(registry_import(actor=None, path=path))
    assert "超过导入上限 3 行" in message


def test_a_big5_file_is_named_as_big5(tmp_path):
    path = tmp_path / "繁体.csv"
    path.write_bytes("戶編號,戶主姓名,與戶主關係,身份證號碼\n12345,陳大文,戶主,x\n".encode("big5"))
    message = _only_error(registry_import(actor=None, path=path))
    assert "没有找到表头" in message and "Big5" in message


def test_garbage_bytes_name_the_encodings_that_are_read(tmp_path):
    path = tmp_path / "乱码.csv"
    path.write_bytes(bytes(range(0x80, 0x100)) * 40 + b"\n")
    message = _only_error(registry_import(actor=None, path=path))
    assert "无法识别的字符" in message or "没有找到表头" in message
    assert "UTF-8" in message and "GB18030" in message


def test_a_utf16_file_without_bom_is_named(tmp_path):
    rows = sample_rows()
    text = ",".join(rows[0]) + "\n"
    path = tmp_path / "utf16.csv"
    path.write_bytes(text.encode("utf-16-le"))
    message = _only_error(registry_import(actor=None, path=path))
    assert "UTF-16" in message


def test_a_gb18030_file_still_imports(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", sample_rows(), encoding="gb18030")
    report = registry_import(actor=None, path=path)
    assert report.errors == [] and Household.objects.count() == 3
    assert HEADERS  # the same headers as the template
