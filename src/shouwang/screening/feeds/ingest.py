"""Staging one department file: read it, check every row, write the accepted rows as Parquet.

The file streams in chunks, so a file of millions of rows needs little memory: a CSV through
Arrow's streaming reader (every column read as text), a spreadsheet through python-calamine.
Each chunk is checked column by column with Arrow compute and NumPy; Python only sees the
distinct values of low-cardinality columns (dates, choices, villages), the distinct ID numbers
(for their blind index) and the rows that fail (for their message).

ID numbers become their blind index, address code and the age the rules need at once: the
raw number is written neither to the Parquet file nor to the rejects file (which shows it
masked), and neither is the birth date. Free text (names, diagnoses) is sealed with the field
encryption (``feeds.sealing``). Every file written is the service user's alone (0600).

Row numbers are those Excel shows: the header's row plus the record's offset under it; blank
lines and cells holding line breaks count as Excel counts them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core import crypto
from shouwang.core.choices import DivisionLevel
from shouwang.core.filecheck import (
    BoundedLines,
    FileRefused,
    TextTooLong,
    check_dimensions,
    check_not_spreadsheet,
    csv_error_text,
    encoding_hint,
    no_complete_record,
    other_encoding,
)
from shouwang.core.idnumber import (
    CHECK_CHARS,
    EARLIEST_BIRTH_YEAR,
    WEIGHTS,
    IdNumberError,
    parse_id_number,
    province_codes,
)
from shouwang.core.models import Division
from shouwang.registry.io.columns import cell_text, division_short_name, escape_formula, header_key
from shouwang.registry.io.readers import (
    CSV_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    UnreadableFile,
    detect_encoding,
    open_table,
)
from shouwang.screening.choices import ColumnType
from shouwang.screening.feeds.schema import DECIMAL_TYPE, feed_arrow_schema
from shouwang.screening.feeds.sealing import ColumnSealer, sealed_field_names
from shouwang.screening.sources import ColumnSpec, event_date_field

#: Exports often put a title line or two above the header; look this far for it.
HEADER_SEARCH_ROWS = 10
#: Records read after the header to learn how many cells a data row has.
WIDTH_SAMPLE_ROWS = 20
#: Characters of a CSV file's start in which the header and those records must fit.
HEAD_CHARACTERS = 4 << 20
#: Rejected rows kept on the result (all of them are in the rejects file).
ERRORS_KEPT = 200
#: Bytes of CSV Arrow reads at a time (it reads up to 32 such blocks ahead), rows checked
#: together (a few blocks' worth), and rows per spreadsheet chunk.
CSV_BLOCK_BYTES = 4 << 20
CSV_CHUNK_ROWS = 120_000
#: Rows with an unusual number of cells, parsed in Python, checked this many at a time.
ODD_CHUNK_ROWS = 10_000
SPREADSHEET_CHUNK_ROWS = 50_000
#: Excel's day 0 (serial dates count days from here; 1900's phantom leap day is long past).
EXCEL_EPOCH = dt.date(1899, 12, 30)
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

#: Why rows are rejected; ``IngestResult.error_counts`` and the batch page use these keys.
REJECT_REASONS = {
    "file": gettext_lazy("文件无法导入"),
    "id_number": gettext_lazy("身份证号码有误"),
    "required": gettext_lazy("必填项为空"),
    "date": gettext_lazy("日期有误"),
    "decimal": gettext_lazy("金额或数值有误"),
    "integer": gettext_lazy("整数有误"),
    "choice": gettext_lazy("不是可选值"),
    "division": gettext_lazy("村（社区）无法识别"),
    "total_row": gettext_lazy("合计行"),
    "header_row": gettext_lazy("重复的表头行"),
}
REJECTS_HEADER = (
    gettext_lazy("行号"),
    gettext_lazy("列"),
    gettext_lazy("原因"),
    gettext_lazy("身份证号码（已脱敏）"),
)

Progress = Callable[[int, int], None]

_ID_SHAPE = r"^[0-9]{17}[0-9X]$"
#: Python's ``str.strip`` removes more than this; what is left is caught by parse_id_number.
_ID_TRIM = "\t\n\v\f\r \u3000"
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)
_TOTAL_ROW = r"^(合\s*计|总\s*计|小\s*计)"
_DECIMAL_NOISE = r"[¥,，\s\x{a0}\x{3000}]|元$"
_DECIMAL_SHAPE = r"^(?P<sign>[+-]?)(?P<whole>[0-9]{0,16})(?:\.(?P<fraction>[0-9]*))?$"
_INTEGER_NOISE = r"[,，\s\x{a0}\x{3000}]"
_INTEGER_SHAPE = r"^(?P<number>[+-]?[0-9]{1,18})(?:\.0*)?$"
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?$",
    re.ASCII,
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
_SERIAL_DATE = re.compile(r"^(\d{5})(?:\.\d+)?$", re.ASCII)
_DIVISION_SEPARATORS = re.compile(r"[\s/\\\-－—·,，、]+")


# --- result --------------------------------------------------------------------------------


@dataclass
class IngestResult:
    #: Data rows the file seemed to hold (lines or sheet rows under the header).
    rows_estimated: int = 0
    #: Non-blank data rows read; every one is either accepted or rejected.
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    #: Blank rows, skipped without a reason.
    rows_blank: int = 0
    #: The first rejected rows' problems: ``{"row", "column", "message"}``.
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Problems per reason (keys of ``REJECT_REASONS``); a row may have several.
    error_counts: dict[str, int] = field(default_factory=dict)
    #: Accepted rows whose optional village was not recognised (kept with no village).
    villages_unresolved: int = 0
    #: Why the whole file was refused (no header, missing columns, unreadable); empty if not.
    file_error: str = ""
    header_row: int | None = None
    encoding: str = ""
    #: Field → the header as the file writes it.
    headers: dict[str, str] = field(default_factory=dict)
    #: Whether the rejects file was written (only when something was rejected).
    rejects_written: bool = False
    seconds: float = 0.0
    #: Seconds per phase: "read" (decoding and splitting the file), "check" (every column, of
    #: which "blind_index" is the keyed hashing of ID numbers and "seal" the encryption of free
    #: text) and "write" (Parquet, rejects).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def file_rejected(self) -> bool:
        return bool(self.file_error)


class _FileRefused(Exception):
    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


# --- villages ------------------------------------------------------------------------------


def _division_key(text: str) -> str:
    return _DIVISION_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


#: Minority nationalities that name ethnic townships (``石桥苗族土家族乡``, called ``石桥乡``).
_NATIONALITIES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 "
    "怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
_ETHNIC_PART = re.compile(
    "(?:(?:" + "|".join(sorted(_NATIONALITIES, key=len, reverse=True)) + ")族)+(?=[乡镇]$)"
)


def _township_keys(name: str) -> set[str]:
    """``火炉镇`` and ``石桥苗族土家族乡`` / ``石桥乡``; ``凤山街道`` / ``凤山街道办事处``."""
    keys = {_division_key(name)}
    keys.add(_division_key(_ETHNIC_PART.sub("", name)))
    if name.endswith("街道"):
        keys.add(_division_key(name + "办事处"))
    return {k for k in keys if k}


def _village_base(short: str) -> str:
    """``向前村`` → ``向前``: what some files write (only used when it names one village)."""
    for suffix in ("社区", "村"):
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            return short[: -len(suffix)]
    return short


class DivisionResolver:
    """The 12-digit village code for what a department writes in a village column.

    Accepted: the code itself, the statistical name (``向前村村民委员会``), the short name
    (``向前村``), any of them after the township's name (``火炉镇向前村``, ``火炉镇 向前村``)
    and after the county's (``武隆区火炉镇向前村``). A short name shared by villages of two
    townships needs the township. Results are cached per text.
    """

    def __init__(
        self,
        villages: Iterable[tuple[str, str, str]],
        *,
        area_names: Sequence[str] = (),
    ) -> None:
        """``villages``: (code, village name, township name); ``area_names``: the names of the
        home division and its parents, which may precede a village's name."""
        self.codes: set[str] = set()
        self._by_name: dict[str, set[str]] = {}
        self._by_base: dict[str, set[str]] = {}
        self._townships: dict[str, set[str]] = {}  # township key → its village codes
        self._township_of: dict[str, str] = {}
        for code, name, township in villages:
            self.codes.add(code)
            short = _division_key(division_short_name(name))
            self._by_name.setdefault(short, set()).add(code)
            self._by_name.setdefault(_division_key(name), set()).add(code)
            self._by_base.setdefault(_village_base(short), set()).add(code)
            self._township_of[code] = township
            for key in _township_keys(township):
                self._townships.setdefault(key, set()).add(code)
        self._township_keys = sorted(self._townships, key=lambda k: (-len(k), k))
        self._area_prefixes = sorted({_division_key(n) for n in area_names if n})
        self._cache: dict[str, tuple[str | None, str]] = {}

    @classmethod
    def for_home_division(cls) -> DivisionResolver:
        """Villages under ``settings.SHOUWANG_HOME_DIVISION``."""
        home_code = settings.SHOUWANG_HOME_DIVISION
        home = Division.objects.filter(code=home_code).select_related("parent__parent").first()
        prefix = home.prefix if home is not None else home_code.rstrip("0")
        names: list[str] = []
        node = home
        while node is not None:
            names.append(node.name)
            node = node.parent
        villages = Division.objects.filter(
            level=DivisionLevel.VILLAGE, code__startswith=prefix
        ).values_list("code", "name", "parent__name")
        return cls(((c, n, t or "") for c, n, t in villages), area_names=names)

    def resolve(self, text: str) -> tuple[str | None, str]:
        """(code, "") when recognised, else (None, why in Chinese)."""
        found = self._cache.get(text)
        if found is None:
            found = self._resolve(text)
            self._cache[text] = found
        return found

    def _names(self, key: str, *, within: set[str] | None = None) -> set[str]:
        codes = self._by_name.get(_division_key(division_short_name(key)), set())
        if not codes:
            codes = self._by_name.get(key, set())
        if not codes:
            codes = self._by_base.get(key, set())
        return codes & within if within is not None else set(codes)

    def _resolve(self, text: str) -> tuple[str | None, str]:
        key = _division_key(text)
        if key.isascii() and key.isdigit() and len(key) == 12:
            if key in self.codes:
                return key, ""
            return None, _("“%(value)s”不是本区县的村（社区）区划代码") % {"value": text}
        stripped = True
        while stripped:  # "重庆市武隆区…": the county's names in any order
            stripped = False
            for prefix in self._area_prefixes:
                if key.startswith(prefix) and len(key) > len(prefix):
                    key, stripped = key[len(prefix) :], True
        codes = self._names(key)
        if not codes:
            for township in self._township_keys:
                if key.startswith(township) and len(key) > len(township):
                    codes = self._names(key[len(township) :], within=self._townships[township])
                    if codes:
                        break
        if len(codes) == 1:
            return next(iter(codes)), ""
        if codes:
            townships = "、".join(sorted({self._township_of[c] for c in codes}))
            return None, _(
                "村名“%(value)s”在多个乡镇都有（%(townships)s），请写上乡镇名或填写 12 位区划代码"
            ) % {"value": text, "townships": townships}
        return None, _(
            "未找到村（社区）“%(value)s”；请填写本区县的村名（可加乡镇名）或 12 位区划代码"
        ) % {"value": text}


# --- layout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mapped:
    spec: ColumnSpec
    #: Position of the column in the file's rows.
    index: int
    #: The header as the file writes it (shown in errors).
    header: str


@dataclass(frozen=True)
class _Layout:
    header_row: int
    #: Position in ``head`` of the header record.
    header_position: int
    columns: tuple[_Mapped, ...]


def _find_layout(head: Sequence[tuple[int, Sequence[str]]], columns: list[ColumnSpec]) -> _Layout:
    """The header among the first rows, and where each known column is in it. Refusals that
    concern no particular row (an empty file, no header at all) have no ``row``."""
    lookup = {header_key(text): spec for spec in columns for text in spec.headers}

    def matches(cells: Sequence[str]) -> int:
        return sum(1 for cell in cells if header_key(cell) in lookup)

    if not head:
        raise _FileRefused(_("文件是空的"))
    searched = head[:HEADER_SEARCH_ROWS]
    best = max(range(len(searched)), key=lambda i: (matches(searched[i][1]), -i))
    number, cells = searched[best]
    if matches(cells) == 0:
        raise _FileRefused(
            _("前 %(n)d 行中没有找到表头；表头应包含：%(headers)s")
            % {"n": HEADER_SEARCH_ROWS, "headers": "、".join(c.header for c in columns)}
        )
    found: dict[str, _Mapped] = {}
    problems: list[str] = []
    for index, cell in enumerate(cells):
        spec = lookup.get(header_key(cell))
        if spec is None:
            continue  # a column the source does not use
        if spec.field in found:
            problems.append(
                _("列“%(a)s”和“%(b)s”都是“%(header)s”，请删除其中一列")
                % {"a": found[spec.field].header, "b": cell.strip(), "header": spec.header}
            )
            continue
        found[spec.field] = _Mapped(spec=spec, index=index, header=cell.strip())
    missing = [c for c in columns if c.required and c.field not in found]
    if missing:
        names = "、".join(
            c.header
            + (_("（或：%(aliases)s）") % {"aliases": "、".join(c.aliases)} if c.aliases else "")
            for c in missing
        )
        problems.insert(
            0,
            _("缺少必需的列：%(columns)s；表头在第 %(row)d 行，可用数据源模板对照表头")
            % {"columns": names, "row": number},
        )
    if problems:
        raise _FileRefused("；".join(problems), row=number)
    ordered = tuple(found[c.field] for c in columns if c.field in found)
    return _Layout(header_row=number, header_position=best, columns=ordered)


# --- reading -------------------------------------------------------------------------------


@dataclass
class _Chunk:
    #: Field → the cells as text (never null; "" for empty).
    cells: dict[str, pa.Array]
    #: Excel row number of each row.
    numbers: np.ndarray
    #: Records consumed from the file so far (for progress), blank ones included.
    consumed: int


def _text_array(values: list[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


def _rows_to_chunk(
    rows: list[tuple[int, Sequence[Any]]],
    layout: _Layout,
    convert: Callable[[Any, str], str],
    consumed: int,
) -> _Chunk:
    cells: dict[str, pa.Array] = {}
    for mapped in layout.columns:
        index, kind = mapped.index, mapped.spec.type
        cells[mapped.spec.field] = _text_array(
            [convert(r[index], kind) if index < len(r) else "" for _n, r in rows]
        )
    numbers = np.fromiter((n for n, _r in rows), dtype=np.int64, count=len(rows))
    return _Chunk(cells=cells, numbers=numbers, consumed=consumed)


def _csv_cell(cell: Any, _kind: str) -> str:
    return cell


def _spreadsheet_cell(cell: Any, kind: str) -> str:
    """A spreadsheet cell as the text the checks read: dates as ISO text, serial dates too."""
    if type(cell) is str:
        return cell
    if kind == ColumnType.DATE:
        if isinstance(cell, dt.datetime):
            return cell.date().isoformat()
        if isinstance(cell, dt.date):
            return cell.isoformat()
        if isinstance(cell, (int, float)) and not isinstance(cell, bool) and 1 <= cell < 2958466:
            return (EXCEL_EPOCH + dt.timedelta(days=int(cell))).isoformat()
    return cell_text(cell)


class _CsvSource:
    """A CSV file read through Arrow, rows numbered as Excel numbers them.

    Checked before any row is parsed: a spreadsheet saved under a .csv name, the number of
    lines and (from the first rows) of columns against the configured limits; the header is
    looked for in a bounded start of the file, so one endless line costs no memory.
    """

    def __init__(self, path: Path, columns: list[ColumnSpec]) -> None:
        self.path = path
        self.columns = columns
        try:
            check_not_spreadsheet(path)
            self.encoding, lines = detect_encoding(path)
            check_dimensions(lines, 0)
        except FileRefused as exc:
            raise _FileRefused(exc.message) from None
        except OSError as exc:
            raise _FileRefused(
                _("无法打开文件（%(reason)s）") % {"reason": exc.strerror or exc}
            ) from None
        head, self.delimiter = self._head()
        try:
            check_dimensions(0, max(len(cells) for _n, cells, _l in head) if head else 0)
        except FileRefused as exc:
            raise _FileRefused(exc.message) from None
        try:
            self.layout = _find_layout([(n, cells) for n, cells, _l in head], columns)
        except _FileRefused as exc:
            if exc.row is None and head:
                raise self._no_header(exc) from None
            raise
        header_number, header_cells, header_lines = head[self.layout.header_position]
        #: Physical lines up to and including the header (Arrow skips lines, not records).
        self.skip_lines = header_lines
        self.header_row = header_number
        self.width = self._data_width(head[self.layout.header_position + 1 :], len(header_cells))
        self.rows_estimated = max(lines - header_lines, 0)

    def _expected_headers(self) -> list[str]:
        return [text for column in self.columns for text in column.headers]

    def _encoding_hint(self) -> str:
        return encoding_hint(self.path, self._expected_headers(), self.encoding)

    def _no_header(self, refused: _FileRefused) -> _FileRefused:
        """No header at all: when the file seems to be in an encoding that is not read
        (Big5, UTF-16), that is the refusal; a file read as GB18030 may be in one, so the
        header's absence is said with the encodings read; a UTF-8 file is the wrong file."""
        if other_encoding(self.path, self._expected_headers(), self.encoding) is not None:
            return _FileRefused(self._encoding_hint())
        if not self.encoding.startswith("utf-8"):
            return _FileRefused(f"{refused.message}。{self._encoding_hint()}")
        return refused

    def _head(self) -> tuple[list[tuple[int, list[str], int]], str]:
        """The first records (number, cells, physical lines so far), read from at most
        ``HEAD_CHARACTERS`` characters of the file."""
        head: list[tuple[int, list[str], int]] = []
        try:
            with self.path.open(encoding=self.encoding, newline="") as handle:
                sample = handle.read(1 << 16)
                handle.seek(0)
                first = "\n".join(sample.splitlines()[:HEADER_SEARCH_ROWS])
                # Excel's "Unicode text" and some systems write tab-separated files.
                delimiter = "\t" if first.count("\t") > first.count(",") else ","
                reader = csv.reader(BoundedLines(handle, HEAD_CHARACTERS), delimiter=delimiter)
                for number, cells in enumerate(reader, start=1):
                    head.append((number, cells, reader.line_num))
                    if number >= HEADER_SEARCH_ROWS + WIDTH_SAMPLE_ROWS:
                        break
        except TextTooLong:
            if not head:
                raise _FileRefused(no_complete_record(HEAD_CHARACTERS).message) from None
        except UnicodeDecodeError:
            raise _FileRefused(
                _("文件开头有无法识别的字符。%(hint)s") % {"hint": self._encoding_hint()}
            ) from None
        except csv.Error as exc:
            raise _FileRefused(
                _("文件开头的 CSV 格式有误：%(reason)s") % {"reason": csv_error_text(exc)}
            ) from None
        return head, delimiter

    def _data_width(self, sample: list[tuple[int, list[str], int]], header_width: int) -> int:
        """Cells per data row: the usual width of the first rows (a header may carry an extra
        trailing comma, or lack one), at least enough for every mapped column."""
        widths = [len(cells) for _n, cells, _l in sample if any(c.strip() for c in cells)]
        width = max(set(widths), key=widths.count) if widths else header_width
        needed = max(m.index for m in self.layout.columns) + 1
        return width if width >= needed else header_width

    def chunks(self) -> Iterator[_Chunk]:
        names = [f"c{i}" for i in range(self.width)]
        wanted = [names[m.index] for m in self.layout.columns]
        #: Rows whose cell count differs from the usual: Arrow skips them, we read them here.
        odd_rows: list[tuple[int, list[str]]] = []
        odd_indexes: list[int] = []

        #: Cells an odd row keeps: up to the last mapped column (a row of a million cells
        #: keeps a few).
        kept = max(m.index for m in self.layout.columns) + 1

        def on_odd_row(row: Any) -> str:
            data_index = row.number - self.skip_lines
            odd_indexes.append(data_index)
            cells = next(csv.reader(io.StringIO(row.text), delimiter=self.delimiter), [])
            odd_rows.append((self.header_row + data_index, cells[:kept]))
            return "skip"

        try:
            reader = pa_csv.open_csv(
                self.path,
                read_options=pa_csv.ReadOptions(
                    skip_rows=self.skip_lines,
                    column_names=names,
                    # Arrow reads UTF-8 itself (a BOM sits in the skipped lines); other
                    # encodings go through Python's codecs.
                    encoding="utf8" if self.encoding.startswith("utf-8") else self.encoding,
                    # Arrow reads up to 32 blocks ahead: small blocks keep that bounded.
                    block_size=CSV_BLOCK_BYTES,
                    # Serial parsing keeps the record numbers of skipped rows.
                    use_threads=False,
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_odd_row,
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in wanted},
                    include_columns=wanted,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            raise self._unreadable(0, exc) from None
        yield from self._batches(reader, names, odd_rows, odd_indexes)

    def _batches(
        self,
        reader: pa_csv.CSVStreamingReader,
        names: list[str],
        odd_rows: list[tuple[int, list[str]]],
        odd_indexes: list[int],
    ) -> Iterator[_Chunk]:
        last_index = 0  # data index (1-based, under the header) of the last row handed out
        pending: list[tuple[pa.RecordBatch, np.ndarray]] = []
        pending_rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, UnicodeDecodeError) as exc:
                raise self._unreadable(last_index, exc) from None
            # The batch holds the records after ``last_index`` that Arrow did not skip.
            count = batch.num_rows
            skipped = np.array([i for i in odd_indexes if i > last_index], dtype=np.int64)
            candidates = np.arange(last_index + 1, last_index + 1 + count + len(skipped))
            indexes = np.setdiff1d(candidates, skipped, assume_unique=True)[:count]
            if count:
                last_index = int(indexes[-1])
                odd_indexes[:] = [i for i in odd_indexes if i > last_index]
                pending.append((batch, indexes))
                pending_rows += count
            if pending_rows >= CSV_CHUNK_ROWS:
                yield self._chunk(pending, names, last_index)
                pending, pending_rows = [], 0
            if len(odd_rows) >= ODD_CHUNK_ROWS:
                yield self._odd_chunk(odd_rows, last_index)
        if pending:
            yield self._chunk(pending, names, last_index)
        if odd_rows:
            yield self._odd_chunk(odd_rows, last_index)

    def _chunk(
        self, batches: list[tuple[pa.RecordBatch, np.ndarray]], names: list[str], last_index: int
    ) -> _Chunk:
        """Several of Arrow's small batches as one chunk, so per-chunk work stays amortised."""
        cells = {
            m.spec.field: pa.concat_arrays([b.column(names[m.index]) for b, _i in batches])
            for m in self.layout.columns
        }
        numbers = np.concatenate([indexes for _b, indexes in batches]) + self.header_row
        return _Chunk(cells=cells, numbers=numbers, consumed=last_index)

    def _unreadable(self, last_index: int, exc: Exception) -> _FileRefused:
        if isinstance(exc, UnicodeDecodeError):
            name = other_encoding(self.path, self._expected_headers(), self.encoding)
            reason = (
                self._encoding_hint()
                if name is not None
                else _("有无法识别的字符；文件应为 UTF-8 或 GB18030 编码的 CSV（GBK、GB2312 也可）")
            )
        else:
            # Arrow's words are English: a record beyond its block is an unclosed quote or
            # a line of megabytes; anything else is a damaged file.
            reason = _(
                '可能有不成对的引号（"）或超长的行；文件应为 UTF-8 或 GB18030 编码的 CSV，'
                "可在 Excel 中打开后另存为 CSV（UTF-8）再上传"
            )
        return _FileRefused(
            _("第 %(row)d 行之后的内容无法读取：%(reason)s")
            % {"row": self.header_row + last_index, "reason": reason}
        )

    def _odd_chunk(self, odd_rows: list[tuple[int, list[str]]], last_index: int) -> _Chunk:
        rows = list(odd_rows)
        odd_rows.clear()
        consumed = max(last_index, rows[-1][0] - self.header_row)
        return _rows_to_chunk(rows, self.layout, _csv_cell, consumed)


class _SpreadsheetSource:
    def __init__(self, path: Path, columns: list[ColumnSpec]) -> None:
        try:
            table = open_table(path)
        except UnreadableFile as exc:
            raise _FileRefused(exc.message) from None
        self.encoding = ""
        self.rows = table.rows
        head: list[tuple[int, list[Any]]] = []
        for number, cells in self.rows:
            head.append((number, list(cells)))
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        self.layout = _find_layout(
            [(n, [cell_text(c) for c in cells]) for n, cells in head], columns
        )
        self.header_row = self.layout.header_row
        self.rest = head[self.layout.header_position + 1 :]
        self.rows_estimated = max(table.estimated_rows - self.header_row, 0)

    def chunks(self) -> Iterator[_Chunk]:
        rows: list[tuple[int, Sequence[Any]]] = list(self.rest)
        consumed = 0

        def take() -> _Chunk:
            nonlocal rows
            chunk = _rows_to_chunk(rows, self.layout, _spreadsheet_cell, consumed)
            rows = []
            return chunk

        try:
            for row in self.rows:
                rows.append(row)
                if len(rows) >= SPREADSHEET_CHUNK_ROWS:
                    consumed = row[0] - self.header_row
                    yield take()
        except UnreadableFile as exc:
            raise _FileRefused(exc.message) from None
        if rows:
            consumed = rows[-1][0] - self.header_row
            yield take()


# --- checking ------------------------------------------------------------------------------


def _np_bool(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _bitmap(valid: np.ndarray) -> pa.Buffer:
    """An Arrow validity bitmap from a boolean mask."""
    return pa.array(valid, type=pa.bool_()).buffers()[1]


def _strings(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


@dataclass
class _Checked:
    """One column of a chunk, checked: typed values (null where empty or bad), bad rows and why."""

    values: pa.Array
    bad: np.ndarray
    message: Callable[[int], str]
    kind: str


def _fixed_width_matrix(array: pa.Array, width: int) -> np.ndarray:
    """The bytes of a string array whose values are all ``width`` ASCII characters, as rows."""
    count = len(array)
    if count == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[
        array.offset : array.offset + count + 1
    ]
    if not (np.diff(offsets) == width).all():
        raise ValueError("values of unequal width")
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    return data[start : start + count * width].reshape(count, width)


@functools.cache
def _province_table() -> np.ndarray:
    """Indexed by the first two digits of an ID: whether they name a province."""
    table = np.zeros(100, dtype=bool)
    for code in province_codes():
        table[int(code)] = True
    return table


def _id_matrix_checks(matrix: np.ndarray, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(valid, days since 1970 of the birth date) for rows of 18 ID characters."""
    digits = matrix[:, :17].astype(np.int64) - 48
    expected = _CHECK_BYTES[(digits @ _WEIGHTS) % 11]
    valid = matrix[:, 17] == expected
    valid &= _province_table()[digits[:, 0] * 10 + digits[:, 1]]
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    valid &= (month >= 1) & (month <= 12) & (day >= 1) & (year >= EARLIEST_BIRTH_YEAR)
    months = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    valid &= dates.astype("datetime64[M]") == months  # the day exists in that month
    days = dates.astype(np.int64)
    valid &= days <= (today - dt.date(1970, 1, 1)).days
    return valid, days


class _ChunkChecker:
    """Checks chunks of one file and builds the Arrow table of their accepted rows."""

    def __init__(
        self,
        *,
        layout: _Layout,
        columns: list[ColumnSpec],
        batch_id: int,
        divisions: DivisionResolver,
    ) -> None:
        self.layout = layout
        self.columns = columns
        self.batch_id = batch_id
        self.divisions = divisions
        self.schema = feed_arrow_schema(columns)
        self.event_field = event_date_field(columns)
        #: Free-text columns are sealed, each with its own cache of ciphertexts.
        self.sealers = {name: ColumnSealer() for name in sealed_field_names(self.schema)}
        self.today = timezone.localdate()
        self.id_field = next(
            (m for m in layout.columns if m.spec.type == ColumnType.ID_NUMBER), None
        )
        self.villages_unresolved = 0
        self.blind_index_seconds = 0.0
        self.seal_seconds = 0.0
        self._choice_lookups = {
            m.spec.field: self._choice_lookup(m.spec)
            for m in layout.columns
            if m.spec.type == ColumnType.CHOICE
        }
        # Cells repeating the header (a header row pasted again under the first one).
        self._header_texts = {
            m.spec.field: pa.array(sorted({m.header, *m.spec.headers}), type=pa.string())
            for m in layout.columns
        }

    @staticmethod
    def _choice_lookup(spec: ColumnSpec) -> dict[str, str]:
        lookup = {value: value for value in spec.choices.values()}
        lookup.update({_choice_key(label): value for label, value in spec.choices.items()})
        return lookup

    # -- per chunk

    def check(
        self, chunk: _Chunk
    ) -> tuple[pa.Table | None, list[tuple[int, str, str, str, str]], int, int]:
        """(accepted rows, rejects as (row, column, kind, message, masked ID), rows read, blank)."""
        count = len(chunk.numbers)
        texts = {
            m.spec.field: pc.utf8_trim_whitespace(_strings(chunk.cells[m.spec.field]))
            for m in self.layout.columns
        }
        lengths = {
            name: pc.utf8_length(text).to_numpy(zero_copy_only=False)
            for name, text in texts.items()
        }
        empties = {name: length == 0 for name, length in lengths.items()}
        blank = np.logical_and.reduce(list(empties.values())) if empties else np.ones(count, bool)

        total_row = np.zeros(count, dtype=bool)
        header_hits = np.zeros(count, dtype=np.int64)
        for mapped in self.layout.columns:
            name = mapped.spec.field
            if mapped.spec.type in (
                ColumnType.TEXT,
                ColumnType.ID_NUMBER,
                ColumnType.DIVISION,
                ColumnType.CHOICE,
            ):
                total_row |= _np_bool(pc.match_substring_regex(texts[name], _TOTAL_ROW))
            header_hits += _np_bool(pc.is_in(texts[name], value_set=self._header_texts[name]))
        header_row = header_hits >= min(2, len(self.layout.columns))
        junk = (total_row | header_row) & ~blank

        checked: dict[str, _Checked] = {}
        id_values: pa.Array | None = None
        unresolved = np.zeros(count, dtype=bool)
        for mapped in self.layout.columns:
            name, kind = mapped.spec.field, mapped.spec.type
            text, empty = texts[name], empties[name]
            if kind == ColumnType.ID_NUMBER:
                result, id_values = self._ids(_strings(chunk.cells[name]), empty)
            elif kind == ColumnType.DATE:
                result = self._by_distinct(text, empty, _parse_date, pa.date32(), "date")
            elif kind == ColumnType.DECIMAL:
                result = _decimals(text, empty)
            elif kind == ColumnType.INTEGER:
                result = _integers(text, empty)
            elif kind == ColumnType.CHOICE:
                parse = functools.partial(
                    _choice,
                    lookup=self._choice_lookups[name],
                    labels="、".join(dict.fromkeys(mapped.spec.choices)),
                )
                result = self._by_distinct(text, empty, parse, pa.string(), "choice")
            elif kind == ColumnType.DIVISION:
                result = self._by_distinct(
                    text, empty, self.divisions.resolve, pa.string(), "division"
                )
                if not mapped.spec.required:
                    # An optional village that is not recognised: the row stays, with no village.
                    unresolved |= result.bad
                    result = _Checked(
                        values=result.values,
                        bad=np.zeros(count, dtype=bool),
                        message=result.message,
                        kind="division",
                    )
            else:
                result = _Checked(
                    values=pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text),
                    bad=np.zeros(count, bool),
                    message=lambda _i: "",
                    kind="text",
                )
            checked[name] = result

        # (position in the chunk, column order, kind, header, message)
        rejects: list[tuple[int, int, str, str, str]] = []
        live = ~(blank | junk)
        for order, mapped in enumerate(self.layout.columns):
            name = mapped.spec.field
            if mapped.spec.required:
                for position in np.flatnonzero(empties[name] & live):
                    rejects.append((int(position), order, "required", mapped.header, _("不能为空")))
            result = checked[name]
            for position in np.flatnonzero(result.bad & live):
                rejects.append(
                    (
                        int(position),
                        order,
                        result.kind,
                        mapped.header,
                        result.message(int(position)),
                    )
                )
        for position in np.flatnonzero(junk):
            if total_row[position]:
                rejects.append((int(position), -1, "total_row", "", _("合计行，不是明细数据")))
            else:
                rejects.append((int(position), -1, "header_row", "", _("重复的表头行，不是数据")))
        rejected = np.zeros(count, dtype=bool)
        for position, *_rest in rejects:
            rejected[position] = True
        accepted = ~(rejected | blank)

        self.villages_unresolved += int(np.count_nonzero(unresolved & accepted))

        rejects.sort(key=lambda r: (r[0], r[1]))
        raw_ids = texts[self.id_field.spec.field] if self.id_field is not None else None
        masked: dict[int, str] = {}
        out: list[tuple[int, str, str, str, str]] = []
        for position, _order, kind, header, message in rejects:
            if raw_ids is not None and position not in masked and not junk[position]:
                raw = raw_ids[position].as_py() or ""
                masked[position] = escape_formula(crypto.mask_id_number(raw)) if raw else ""
            out.append(
                (int(chunk.numbers[position]), header, kind, message, masked.get(position, ""))
            )

        table = self._table(chunk, checked, id_values, accepted) if accepted.any() else None
        read = int(np.count_nonzero(~blank))
        return table, out, read, int(np.count_nonzero(blank))

    # -- columns

    def _ids(self, raw: pa.Array, empty: np.ndarray) -> tuple[_Checked, pa.Array]:
        """Check ID numbers; returns the check and the normalised numbers (null unless valid)."""
        count = len(raw)
        text = pc.replace_substring(pc.utf8_trim(raw, characters=_ID_TRIM), " ", "")
        if pc.any(pc.ends_with(text, "x")).as_py():
            text = pc.replace_substring_regex(text, "x$", "X")
        shaped = _np_bool(pc.match_substring_regex(text, _ID_SHAPE))
        valid = np.zeros(count, dtype=bool)
        if shaped.any():
            matrix = _fixed_width_matrix(pc.filter(text, pa.array(shaped)), 18)
            checks, _days = _id_matrix_checks(matrix, self.today)
            valid[np.flatnonzero(shaped)] = checks
        suspect = ~valid & ~empty
        messages: dict[int, str] = {}
        fixed: dict[int, str] = {}
        for position in np.flatnonzero(suspect):
            position = int(position)
            try:
                fixed[position] = parse_id_number(raw[position].as_py(), today=self.today).value
            except IdNumberError as exc:
                messages[position] = str(exc)
        normalised = pc.if_else(pa.array(valid), text, pa.scalar(None, pa.string()))
        if fixed:  # characters Arrow does not trim but Python does: parse_id_number decides
            values = normalised.to_pylist()
            for position, value in fixed.items():
                values[position] = value
                valid[position] = True
            normalised = pa.array(values, type=pa.string())
        bad = ~valid & ~empty
        checked = _Checked(
            values=normalised, bad=bad, message=lambda i: messages.get(i, ""), kind="id_number"
        )
        return checked, normalised

    def _by_distinct(
        self,
        text: pa.Array,
        empty: np.ndarray,
        parse: Callable[[str], tuple[Any, str]],
        arrow_type: pa.DataType,
        kind: str,
    ) -> _Checked:
        """Check a column with few distinct values: each distinct value is parsed once in Python."""
        encoded = pc.dictionary_encode(text)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        distinct = encoded.dictionary.to_pylist()
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        parsed = [parse(value) if value else (None, "") for value in distinct]
        values = pa.array([value for value, _m in parsed], type=arrow_type).take(encoded.indices)
        distinct_bad = np.array(
            [value is None and bool(message) for value, message in parsed], dtype=bool
        )
        bad = distinct_bad[indices] & ~empty if len(indices) else np.zeros(0, dtype=bool)
        messages = [message for _v, message in parsed]
        return _Checked(values=values, bad=bad, message=lambda i: messages[indices[i]], kind=kind)

    # -- output

    def _table(
        self,
        chunk: _Chunk,
        checked: dict[str, _Checked],
        id_values: pa.Array | None,
        accepted: np.ndarray,
    ) -> pa.Table:
        mask = pa.array(accepted)
        kept = int(np.count_nonzero(accepted))
        arrays: dict[str, pa.Array] = {
            "batch_id": pa.array(np.full(kept, self.batch_id, dtype=np.int64)),
            "row_number": pa.array(chunk.numbers[accepted]),
        }
        for name, result in checked.items():
            if self.schema.get_field_index(name) >= 0:
                values = pc.filter(result.values, mask)
                if name in self.sealers:
                    started = time.perf_counter()
                    values = self.sealers[name].seal(values)
                    self.seal_seconds += time.perf_counter() - started
                arrays[name] = values
        event = checked.get(self.event_field)
        arrays.update(
            self._id_derived(
                pc.filter(id_values, mask) if id_values is not None else None,
                pc.filter(event.values, mask) if event is not None else None,
                kept,
            )
        )
        return pa.Table.from_arrays(
            [
                arrays[f.name] if f.name in arrays else pa.nulls(kept, type=f.type)
                for f in self.schema
            ],
            schema=self.schema,
        )

    def _id_derived(
        self, ids: pa.Array | None, event_dates: pa.Array | None, count: int
    ) -> dict[str, pa.Array]:
        """Blind index, address code and age reference date of valid ID numbers (null where
        none). The birth date itself is not kept (decision 0013): ``birth_date`` holds the
        date that gives the person's age on the row's event date (``_age_reference_days``)."""
        if ids is None or ids.null_count == count:
            return {
                "person_index": pa.nulls(count, pa.string()),
                "birth_date": pa.nulls(count, pa.date32()),
                "id_region": pa.nulls(count, pa.string()),
            }
        present_mask = _np_bool(ids.is_valid())
        present = ids.drop_null()
        matrix = _fixed_width_matrix(present, 18)
        _valid, birth_days = _id_matrix_checks(matrix, self.today)
        encoded = pc.dictionary_encode(present)
        started = time.perf_counter()
        indexes = pa.array(
            [crypto.blind_index(value) for value in encoded.dictionary.to_pylist()],
            type=pa.string(),
        ).take(encoded.indices)
        self.blind_index_seconds += time.perf_counter() - started
        if event_dates is None:
            reference = pa.nulls(len(present), pa.date32())
        else:
            on = pc.filter(event_dates, pa.array(present_mask))
            known = _np_bool(on.is_valid())
            on_days = pc.fill_null(on.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
            days = _age_reference_days(birth_days, on_days.astype(np.int64))
            reference = pa.Array.from_buffers(
                pa.date32(),
                len(present),
                [_bitmap(known), pa.py_buffer(days.astype(np.int32))],
                null_count=len(present) - int(np.count_nonzero(known)),
            )
        derived = {
            "person_index": indexes,
            "birth_date": reference,
            "id_region": pc.utf8_slice_codeunits(present, 0, 6),
        }
        if len(present) == count:
            return derived
        # Spread the values of the rows with an ID back over all rows.
        positions = np.cumsum(present_mask) - 1
        take = pa.array(np.where(present_mask, positions, 0), mask=~present_mask)
        return {name: array.take(take) for name, array in derived.items()}


def _date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01."""
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    return (
        years.astype(np.int64) + 1970,
        (months - years.astype("datetime64[M]")).astype(np.int64) + 1,
        (dates - months.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def _age_reference_days(birth_days: np.ndarray, on_days: np.ndarray) -> np.ndarray:
    """1 January of (event year − age on the event date), as days since 1970.

    The compiler's age is ``(yyyymmdd(on) − yyyymmdd(birth)) div 10000``; for 1 January of
    ``year(on) − age`` that difference is ``age × 10000`` plus at most 1130, so every rule
    sees the same age as from the birth date, which is not kept.
    """
    birth_year, birth_month, birth_day = _date_parts(birth_days)
    on_year, on_month, on_day = _date_parts(on_days)
    age = (
        (on_year * 10000 + on_month * 100 + on_day)
        - (birth_year * 10000 + birth_month * 100 + birth_day)
    ) // 10000
    reference_year = np.clip(on_year - age, 1, 9999)
    return (reference_year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _choice_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _choice(text: str, lookup: dict[str, str], labels: str) -> tuple[str | None, str]:
    value = lookup.get(text)
    if value is None:
        value = lookup.get(_choice_key(text))
    if value is not None:
        return value, ""
    return None, _("“%(value)s”不是可选值；可选：%(options)s") % {"value": text, "options": labels}


def _parse_date(text: str) -> tuple[dt.date | None, str]:
    """2026-10-05, 2026/10/5, 2026.10.05, 2026年10月5日, 20261005, an Excel serial (46300)."""
    normal = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.match(normal) or _COMPACT_DATE.match(normal)
    try:
        if match:
            value = dt.date(int(match[1]), int(match[2]), int(match[3]))
        elif serial := _SERIAL_DATE.match(normal):
            value = EXCEL_EPOCH + dt.timedelta(days=int(serial[1]))
        else:
            return None, _("“%(value)s”不是有效的日期（例如 2026-10-05）") % {"value": text}
    except ValueError:
        return None, _("“%(value)s”不是有效的日期") % {"value": text}
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        return None, _("日期“%(value)s”超出合理范围") % {"value": text}
    return value, ""


def _without_noise(text: pa.Array, literals: tuple[str, ...], pattern: str) -> pa.Array:
    """Numbers without currency signs, separators and spaces. Plain replacements are cheap;
    the Unicode normalisation (full-width digits, ideographic spaces) runs only when needed."""
    for literal in literals:
        if pc.any(pc.match_substring(text, literal)).as_py():
            text = pc.replace_substring(text, literal, "")
    if not pc.all(pc.string_is_ascii(text)).as_py():
        text = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKC"), pattern, "")
    return text


def _decimals(text: pa.Array, empty: np.ndarray) -> _Checked:
    """Amounts: ``¥1,234.50``, ``1234.5元``, ``-12``; rounded half away from zero to cents."""
    count = len(text)
    cleaned = _without_noise(text, ("¥", "￥", ",", " "), _DECIMAL_NOISE)
    parts = pc.extract_regex(cleaned, _DECIMAL_SHAPE)
    matched = _np_bool(parts.is_valid())
    whole = pc.fill_null(parts.field("whole"), "")
    fraction = pc.fill_null(parts.field("fraction"), "")
    has_digit = (
        pc.utf8_length(whole).to_numpy(zero_copy_only=False)
        + pc.utf8_length(fraction).to_numpy(zero_copy_only=False)
    ) > 0
    good = matched & has_digit & ~empty
    whole_number = pc.cast(pc.utf8_lpad(whole, width=1, padding="0"), pa.int64()).to_numpy(
        zero_copy_only=False
    )
    thousandths = pc.cast(
        pc.utf8_slice_codeunits(pc.utf8_rpad(fraction, width=3, padding="0"), 0, 3), pa.int64()
    ).to_numpy(zero_copy_only=False)
    negative = _np_bool(pc.equal(pc.fill_null(parts.field("sign"), ""), "-"))
    cents = whole_number * 100 + (thousandths + 5) // 10  # 16 digits of yuan fit in int64 cents
    cents = np.where(negative, -cents, cents)
    cents = np.where(good, cents, 0).astype(np.int64)
    words = np.empty((count, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # the high word of the 128-bit two's complement
    values = pa.Array.from_buffers(
        DECIMAL_TYPE,
        count,
        [_bitmap(good), pa.py_buffer(words)],
        null_count=count - int(np.count_nonzero(good)),
    )
    bad = ~good & ~empty
    return _Checked(
        values=values,
        bad=bad,
        message=lambda i: _("“%(value)s”不是有效的金额或数值") % {"value": text[i].as_py()},
        kind="decimal",
    )


def _integers(text: pa.Array, empty: np.ndarray) -> _Checked:
    parts = pc.extract_regex(_without_noise(text, (",", " "), _INTEGER_NOISE), _INTEGER_SHAPE)
    good = _np_bool(parts.is_valid()) & ~empty
    digits = pc.if_else(pa.array(good), pc.fill_null(parts.field("number"), "0"), "0")
    numbers = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    values = pa.array(numbers, mask=~good, type=pa.int64())
    return _Checked(
        values=values,
        bad=~good & ~empty,
        message=lambda i: _("“%(value)s”不是有效的整数") % {"value": text[i].as_py()},
        kind="integer",
    )


# --- the whole file ------------------------------------------------------------------------


def private_directory(path: Path) -> Path:
    """``path`` as a directory only the service user may open (created if missing)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def create_private_file(path: Path) -> None:
    """Create ``path`` empty, readable and writable by the service user only (0600); a file
    left there by an interrupted import is replaced."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class _RejectsWriter:
    """The rejects CSV (UTF-8 with BOM so Excel opens it), created at the first reject."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None
        self.writer: Any = None

    def write(self, row: int | None, column: str, message: str, masked_id: str) -> None:
        if self.handle is None:
            private_directory(self.path.parent)
            create_private_file(self.path)
            self.handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle)
            self.writer.writerow([str(h) for h in REJECTS_HEADER])
        self.writer.writerow(["" if row is None else row, column, message, masked_id])

    def close(self) -> bool:
        if self.handle is None:
            return False
        self.handle.close()
        return True


def stage_feed_file(
    *,
    path: Path,
    columns: list[ColumnSpec],
    batch_id: int,
    period: str,
    out_path: Path,
    rejects_path: Path,
    divisions: DivisionResolver,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Read ``path`` (.xlsx/.xls/.csv), check every row, write accepted rows to ``out_path``.

    Rejected rows go to ``rejects_path`` (written only when there are any). When the file as
    a whole is refused (unreadable, no header, a required column missing) ``file_error`` says
    why and no Parquet file is left behind. ``period`` is the batch's; rows keep their own dates.
    """
    started = time.perf_counter()
    path, out_path, rejects_path = Path(path), Path(out_path), Path(rejects_path)
    result = IngestResult()
    rejects = _RejectsWriter(rejects_path)
    partial = out_path.with_name(out_path.name + ".partial")
    writer: pq.ParquetWriter | None = None
    try:
        try:
            source = _open_source(path, columns)
            result.header_row = source.header_row
            result.encoding = source.encoding
            result.rows_estimated = source.rows_estimated
            result.headers = {m.spec.field: m.header for m in source.layout.columns}
            checker = _ChunkChecker(
                layout=source.layout, columns=columns, batch_id=batch_id, divisions=divisions
            )
            private_directory(out_path.parent)
            # The file says which batch and period it holds, for anyone reading it by hand.
            described = checker.schema.with_metadata(
                {"shouwang.batch_id": str(batch_id), "shouwang.period": period}
            )
            create_private_file(partial)  # the writer keeps the mode of the file it opens
            writer = pq.ParquetWriter(partial, described, compression="zstd")
            timings = dict.fromkeys(("read", "check", "blind_index", "seal", "write"), 0.0)
            result.timings = timings
            chunks = source.chunks()
            consumed = 0
            while True:
                mark = time.perf_counter()
                chunk = next(chunks, None)
                timings["read"] += time.perf_counter() - mark
                if chunk is None:
                    break
                mark = time.perf_counter()
                table, problems, read, blank = checker.check(chunk)
                timings["check"] += time.perf_counter() - mark
                mark = time.perf_counter()
                if table is not None:
                    writer.write_table(table)
                    result.rows_accepted += table.num_rows
                result.rows_read += read
                result.rows_blank += blank
                rows_with_problems: set[int] = set()
                for row, column, kind, message, masked_id in problems:
                    rows_with_problems.add(row)
                    result.error_counts[kind] = result.error_counts.get(kind, 0) + 1
                    if len(result.errors) < ERRORS_KEPT:
                        result.errors.append({"row": row, "column": column, "message": message})
                    rejects.write(row, column, message, masked_id)
                result.rows_rejected += len(rows_with_problems)
                timings["write"] += time.perf_counter() - mark
                consumed = max(consumed, chunk.consumed)
                if on_progress is not None:
                    on_progress(consumed, max(result.rows_estimated, consumed))
            timings["blind_index"] = checker.blind_index_seconds
            timings["seal"] = checker.seal_seconds
            result.villages_unresolved = checker.villages_unresolved
            writer.close()
            writer = None
            partial.replace(out_path)
        except _FileRefused as exc:
            result.file_error = exc.message
            result.error_counts = {"file": 1}
            result.errors = [{"row": exc.row, "column": "", "message": exc.message}]
            rejects.write(exc.row, "", exc.message, "")
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
        result.rejects_written = rejects.close()
        result.seconds = time.perf_counter() - started
    if result.file_error:
        out_path.unlink(missing_ok=True)
    return result


def _open_source(path: Path, columns: list[ColumnSpec]) -> _CsvSource | _SpreadsheetSource:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _CsvSource(path, columns)
    if suffix in SPREADSHEET_SUFFIXES:
        return _SpreadsheetSource(path, columns)
    raise _FileRefused(
        _("不支持的文件类型“%(suffix)s”，请使用 .xlsx、.xls 或 .csv") % {"suffix": suffix}
    )


__all__ = [
    "REJECT_REASONS",
    "DivisionResolver",
    "IngestResult",
    "create_private_file",
    "private_directory",
    "stage_feed_file",
]
