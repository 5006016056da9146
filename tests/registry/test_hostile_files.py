"""Hostile or broken files are refused before they cost memory, and the refusal says in
Chinese what is wrong: a spreadsheet that unpacks to far more than it weighs, random bytes
named .xlsx, a file too large, text in an encoding that is not read."""

from __future__ import annotations

import os
import zipfile

import pytest

from shouwang.registry.io.services import registry_import
from shouwang.registry.models import Household
from tests.registry.test_io import HEADERS, sample_rows, write_csv

pytestmark = pytest.mark.django_db


def _only_error(report) -> str:
    assert report.result is None and len(report.errors) == 1, report.errors
    return report.errors[0]["message"]


def _ascii_free_of_english(message: str) -> None:
    letters = [ch for ch in message if ch.isascii() and ch.isalpha()]
    allowed = set("xlsxUTFGBKBOMExcelCSV")
    assert all(ch in allowed for ch in letters), f"English in the message: {message}"


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
