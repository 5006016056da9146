"""Checks a file must pass before a reader spends memory on it, shared by every import
(the registry's and the department feeds'): a spreadsheet's size once unpacked, its rows and
columns, and, for text files, which encoding it is in. Every refusal says in Chinese what is
wrong and what to do.

A text file is read line by line through ``BoundedLines``, so one endless line (a file with
no line break, a record of millions of cells) is refused after a bounded number of characters
instead of being held whole.

An .xlsx file is a zip archive of XML: a small file can unpack to gigabytes (a "zip bomb"),
and the spreadsheet readers unpack the sheet in memory. Its entries' declared sizes are read
from the archive's directory (no decompression), refused above a configured total or at a
compression ratio no real spreadsheet has.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.utils.translation import gettext as _

#: Spreadsheet XML compresses about 5–20 times; hundreds of times is a constructed file.
MAX_COMPRESSION_RATIO = 200
#: Below this an archive's ratio is not judged (tiny files compress oddly).
RATIO_CHECK_FROM_BYTES = 16 * 1024 * 1024
#: The encodings department files come in, as people name them.
READ_ENCODINGS = "UTF-8、UTF-8（带 BOM）、GB18030（含 GBK、GB2312）"
#: Encodings recognised only to say so: a file in one of them must be saved again.
OTHER_ENCODINGS = (("big5", "Big5（繁体）"), ("utf-16", "UTF-16"), ("shift_jis", "Shift-JIS"))
#: Characters one record of a text file may span: far beyond any real row (Python's CSV
#: reader already caps a cell at 128 K characters), far below a worker's memory.
RECORD_CHARACTERS = 1 << 20


class FileRefused(Exception):
    """The file is refused before reading; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SpreadsheetLimits:
    unpacked_bytes: int
    rows: int
    columns: int

    @classmethod
    def configured(cls) -> SpreadsheetLimits:
        return cls(
            unpacked_bytes=settings.SHOUWANG_IMPORT_MAX_UNPACKED_MB * 1024 * 1024,
            rows=settings.SHOUWANG_IMPORT_MAX_ROWS,
            columns=settings.SHOUWANG_IMPORT_MAX_COLUMNS,
        )


def damaged_spreadsheet() -> FileRefused:
    return FileRefused(
        _("文件已损坏或不是 Excel 文件，无法读取；请在 Excel 中打开后另存为 .xlsx 再上传")
    )


def check_xlsx_archive(path: Path, limits: SpreadsheetLimits | None = None) -> None:
    """Refuse an .xlsx/.xlsm that is not a readable archive, unpacks beyond the limit, or
    is compressed beyond what a spreadsheet can be."""
    limits = limits or SpreadsheetLimits.configured()
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise damaged_spreadsheet() from None
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if not any(entry.filename.startswith("xl/") for entry in entries):
        raise damaged_spreadsheet()
    if unpacked > limits.unpacked_bytes:
        raise FileRefused(
            _("文件解压后约 %(size)d MB，超过导入上限 %(limit)d MB；请按乡镇或村分成几个文件导入")
            % {
                "size": -(-unpacked // (1024 * 1024)),
                "limit": limits.unpacked_bytes // (1024 * 1024),
            }
        )
    if unpacked >= RATIO_CHECK_FROM_BYTES and unpacked / packed > MAX_COMPRESSION_RATIO:
        raise FileRefused(
            _(
                "文件的压缩比异常（解压后是原文件的 %(ratio)d 倍），不是正常的 Excel 文件，已拒绝读取"
            )
            % {"ratio": unpacked // packed}
        )


def check_dimensions(rows: int, columns: int, limits: SpreadsheetLimits | None = None) -> None:
    limits = limits or SpreadsheetLimits.configured()
    if rows > limits.rows:
        raise FileRefused(
            _("文件有 %(rows)d 行，超过导入上限 %(limit)d 行；请分成几个文件导入")
            % {"rows": rows, "limit": limits.rows}
        )
    if columns > limits.columns:
        raise FileRefused(
            _("文件有 %(columns)d 列，超过上限 %(limit)d 列；请确认选择的是正确的工作表或文件")
            % {"columns": columns, "limit": limits.columns}
        )


class TextTooLong(Exception):
    """A text file runs past the characters allowed without the record ending."""


class BoundedLines:
    """A text file's lines as iterating it gives them (for ``csv.reader``), at most
    ``budget`` characters in all, or per record when the caller calls ``restart`` as each
    record ends. A line longer than the budget is never held whole: ``TextTooLong`` is raised
    once the budget is spent."""

    def __init__(self, handle: TextIO, budget: int) -> None:
        self.handle = handle
        self.budget = budget
        self.used = 0

    def __iter__(self) -> BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(self.budget - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.budget:
            raise TextTooLong
        return line

    def restart(self) -> None:
        """A new record begins: it has the whole budget again."""
        self.used = 0


def _megabytes(characters: int) -> int:
    return max(characters // (1024 * 1024), 1)


def no_complete_record(characters: int) -> FileRefused:
    """The first ``characters`` of a text file hold no complete record."""
    return FileRefused(
        _("文件开头 %(mb)d MB 内没有一行完整的记录，不是正常的表格文件，已拒绝读取")
        % {"mb": _megabytes(characters)}
    )


def record_too_long(row: int, characters: int) -> FileRefused:
    """Record ``row`` (counted from 1) of a text file runs past ``characters``."""
    if row <= 1:
        return no_complete_record(characters)
    return FileRefused(
        _("第 %(row)d 行超过 %(mb)d MB 仍未结束，不是正常的表格文件，已拒绝读取")
        % {"row": row, "mb": _megabytes(characters)}
    )


def csv_error_text(exc: csv.Error) -> str:
    """What Python's CSV reader means, in Chinese (its own words are English)."""
    text = str(exc)
    if "field limit" in text:
        return _("有超过 %(n)d 个字符的单元格，不是正常的表格文件") % {"n": csv.field_size_limit()}
    if "NUL" in text:
        return _("文件中有空字符（NUL），可能不是文本文件")
    return _("无法按 CSV 格式解析，请在 Excel 中打开后另存为 CSV（UTF-8）再上传")


def _cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def other_encoding(path: Path, expected_headers: Iterable[str], read_as: str) -> str | None:
    """The name (as people say it) of an encoding that is not read which a text file, read as
    ``read_as``, seems to be in: decoding its start that way shows the expected headers, or
    Chinese text where the file read as GB18030 shows none, or UTF-16's zero bytes."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(64 * 1024)
    except OSError:
        return None
    headers = [h for h in expected_headers if h]
    for codec, name in OTHER_ENCODINGS:
        if codecs.lookup(codec).name == codecs.lookup(read_as or "utf-8").name:
            continue
        # Whole characters only: even bytes for UTF-16, whole lines for the others.
        head = raw[: len(raw) // 2 * 2] if codec == "utf-16" else raw[: raw.rfind(b"\n") + 1]
        head = head or raw
        try:
            text = head.decode(codec, errors="strict")
        except (UnicodeDecodeError, LookupError):
            continue
        looks_right = (
            sum(1 for h in headers if h in text) >= 2
            or (codec == "big5" and _cjk_count(text) >= 4)
            or (codec == "utf-16" and head.count(b"\x00") * 4 > len(head))
        )
        if looks_right:
            return name
    return None


def encoding_hint(path: Path, expected_headers: Iterable[str], read_as: str) -> str:
    """When no header was found in a text file read as ``read_as``: a sentence naming the
    encoding the file seems to be in (``other_encoding``), otherwise the encodings that are
    read."""
    name = other_encoding(path, expected_headers, read_as)
    if name is not None:
        return _(
            "文件似乎是 %(name)s 编码，无法读取（可读取的编码：%(encodings)s）；"
            "请用 Excel 或记事本另存为 UTF-8 后再上传"
        ) % {"name": name, "encodings": READ_ENCODINGS}
    return _("文件可能不是 %(encodings)s 编码，请另存为 UTF-8 后再上传") % {
        "encodings": READ_ENCODINGS
    }


#: How spreadsheet files begin: a zip archive (.xlsx) or an OLE compound file (.xls).
_SPREADSHEET_MAGIC = ((b"PK\x03\x04", ".xlsx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"))


def check_not_spreadsheet(path: Path) -> None:
    """Refuse a spreadsheet saved under a text file's name (``名单.xlsx`` renamed ``.csv``),
    which would otherwise read as characters in no encoding."""
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
    except OSError:
        return
    for magic, suffix in _SPREADSHEET_MAGIC:
        if start.startswith(magic):
            raise FileRefused(
                _(
                    "文件内容是 Excel 表格（%(suffix)s），扩展名却是 %(name)s；"
                    "请把扩展名改为 %(suffix)s 后上传，或在 Excel 中另存为 CSV"
                )
                % {"suffix": suffix, "name": path.suffix.lower()}
            )
