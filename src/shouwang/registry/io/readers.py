"""Reading spreadsheet rows from .xlsx/.xls (python-calamine) and .csv (UTF-8, UTF-8 with BOM,
GB18030), as a stream of ``(row number as Excel shows it, cells)``.

CSV encoding: a byte-order mark decides; otherwise the whole file is checked as strict UTF-8
(a fast pass in C that also counts lines for the progress bar), and GB18030 is used when that
fails. GB18030 is the superset of GBK and GB2312, which department exports use.

Before any row is parsed a CSV file is checked against the import limits: not a spreadsheet
under a .csv name, not too many lines, and the first records (the header among them) not too
wide. Every record is read through a bounded reader, so one endless line (a file with no line
break, a row of millions of cells) is refused after ``RECORD_CHARACTERS`` characters instead
of being held in memory.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from shouwang.core.filecheck import (
    RECORD_CHARACTERS,
    BoundedLines,
    FileRefused,
    TextTooLong,
    check_dimensions,
    check_not_spreadsheet,
    check_xlsx_archive,
    csv_error_text,
    damaged_spreadsheet,
    encoding_hint,
    record_too_long,
)
from shouwang.registry.io.columns import IMPORT_COLUMNS, Cell

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv"})
IMPORT_SUFFIXES = SPREADSHEET_SUFFIXES | CSV_SUFFIXES
_CHUNK = 1 << 20
#: Records whose width is checked before any row is parsed: as many as the header is looked
#: for in (``parsing.HEADER_SEARCH_ROWS``).
HEAD_RECORDS = 10


class UnreadableFile(Exception):
    """The file cannot be read at all; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    rows: Iterator[tuple[int, Sequence[Cell]]]
    #: Rows in the file including the header (exact for spreadsheets, counted lines for CSV).
    estimated_rows: int
    #: A text file's path and the encoding it was read in, for the hint when no header is found.
    path: Path | None = None
    encoding: str = ""


def open_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return _spreadsheet_table(path)
    if suffix in CSV_SUFFIXES:
        return _csv_table(path)
    raise UnreadableFile(
        _("不支持的文件类型“%(suffix)s”，请使用 .xlsx、.xls 或 .csv") % {"suffix": suffix}
    )


def _spreadsheet_table(path: Path) -> Table:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            check_xlsx_archive(path)  # before the reader unpacks it in memory
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [
            m.name
            for m in workbook.sheets_metadata
            if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible
        ]
        if not sheets:
            raise UnreadableFile(_("文件中没有可见的工作表"))
        sheet = workbook.get_sheet_by_name(sheets[0])
        check_dimensions(sheet.height, sheet.width)
    except FileRefused as exc:
        raise UnreadableFile(exc.message) from None
    except (CalamineError, ValueError):
        # The reader's own words are English and technical: say what it means instead.
        raise UnreadableFile(damaged_spreadsheet().message) from None
    except OSError as exc:
        raise UnreadableFile(
            _("无法打开文件（%(reason)s）") % {"reason": exc.strerror or exc}
        ) from None

    def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
        # calamine yields rows from the first row of the sheet, so the index is Excel's row.
        try:
            yield from enumerate(sheet.iter_rows(), start=1)
        finally:
            workbook.close()

    end = sheet.end
    return Table(rows=rows(), estimated_rows=(end[0] + 1) if end else 0)


def detect_encoding(path: Path) -> tuple[str, int]:
    """The encoding of a CSV file and its number of lines."""
    lines = 0
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        chunk = head
        while chunk:
            lines += chunk.count(b"\n")
            if encoding == "utf-8":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "gb18030"
            chunk = handle.read(_CHUNK)
        if encoding == "utf-8":
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "gb18030"
    return encoding, lines


def _csv_table(path: Path) -> Table:
    try:
        check_not_spreadsheet(path)
        encoding, lines = detect_encoding(path)
        check_dimensions(lines, 0)
        # The header is among the first records: a row of millions of cells is refused here,
        # before the parser hands it on.
        head = _csv_records(path, encoding)
        try:
            widest = max(
                (len(cells) for _n, cells in itertools.islice(head, HEAD_RECORDS)), default=0
            )
        finally:
            head.close()
        check_dimensions(0, widest)
    except FileRefused as exc:
        raise UnreadableFile(exc.message) from None
    except OSError as exc:
        raise UnreadableFile(
            _("无法打开文件（%(reason)s）") % {"reason": exc.strerror or exc}
        ) from None
    return Table(
        rows=_csv_records(path, encoding), estimated_rows=lines, path=path, encoding=encoding
    )


def _csv_records(path: Path, encoding: str) -> Iterator[tuple[int, Sequence[Cell]]]:
    """The records of a CSV file, numbered from 1; none may span more than
    ``RECORD_CHARACTERS`` characters."""
    number = 0
    with path.open(encoding=encoding, newline="") as handle:
        try:
            first = handle.readline(RECORD_CHARACTERS + 1)
            handle.seek(0)
            # Excel's "Unicode text" and some systems write tab-separated files.
            delimiter = "\t" if "\t" in first and "," not in first else ","
            lines = BoundedLines(handle, RECORD_CHARACTERS)
            reader = csv.reader(lines, delimiter=delimiter)
            for number, cells in enumerate(reader, start=1):
                yield number, cells
                lines.restart()
        except TextTooLong:
            raise UnreadableFile(record_too_long(number + 1, RECORD_CHARACTERS).message) from None
        except UnicodeDecodeError:
            raise UnreadableFile(
                _("第 %(row)d 行附近有无法识别的字符。%(hint)s")
                % {
                    "row": number + 1,
                    "hint": encoding_hint(path, (c.header for c in IMPORT_COLUMNS), encoding),
                }
            ) from None
        except csv.Error as exc:
            raise UnreadableFile(
                _("第 %(row)d 行附近的 CSV 格式有误（%(reason)s）")
                % {"row": number + 1, "reason": csv_error_text(exc)}
            ) from None
