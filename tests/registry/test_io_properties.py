"""Property tests of the registry file parser: what is written in the layout reads back the
same whatever the encoding, column order or extra columns; junk gives errors, not exceptions."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shouwang.core.idnumber import SCIENTIFIC_NOTATION, make_id_number
from shouwang.registry.io import IMPORT_COLUMNS, registry_import
from shouwang.registry.io.columns import (
    HEADER_LOOKUP,
    Boolean,
    Choice,
    Code,
    Column,
    IdNumberCell,
    Integer,
    Money,
    Month,
    Text,
    header_key,
)
from shouwang.registry.io.parsing import parse_table
from shouwang.registry.io.readers import open_table

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030"]
#: Names and places: CJK, Latin letters, the middle dot of minority names, and characters that
#: start a formula (the CSV writer escapes them).
WORDS = (
    st.text(
        alphabet=st.sampled_from(
            list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗䶮堃犇龘abcXYZ·=+-@ ")
        ),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
#: Codes such as household numbers; "1E5" and the like are refused on purpose (Excel's scientific
#: notation of a damaged number), so valid-row strategies leave them out.
ASCII_ALNUM = st.text(
    alphabet=st.sampled_from(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")), min_size=1, max_size=20
).filter(lambda text: not SCIENTIFIC_NOTATION.match(text))


def _id_numbers() -> st.SearchStrategy[str]:
    return st.builds(
        make_id_number,
        st.sampled_from(["500156", "110105", "440305", "530102"]),
        st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
        st.integers(min_value=0, max_value=999),
    )


def _value_strategy(column: Column) -> st.SearchStrategy[Any]:
    converter = column.converter
    if isinstance(converter, IdNumberCell):
        return _id_numbers()
    if isinstance(converter, Choice):
        values = list(converter.labels)
        return st.sampled_from(values if converter.required else ["", *values])
    if isinstance(converter, Boolean):
        return st.booleans()
    if isinstance(converter, Money):
        return st.decimals(
            min_value=-(10**6), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
        )
    if isinstance(converter, Integer):
        return st.integers(min_value=0, max_value=2100)
    if isinstance(converter, Month):
        return st.one_of(
            st.just(""),
            st.builds("{:04d}{:02d}".format, st.integers(1990, 2030), st.integers(1, 12)),
        )
    if isinstance(converter, Code):
        if converter.digits:
            return st.text(
                alphabet="0123456789", min_size=converter.digits, max_size=converter.digits
            )
        if column.field == "phone":
            return st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=7, max_size=12))
        return ASCII_ALNUM
    assert isinstance(converter, Text)
    return WORDS if converter.required else st.one_of(st.just(""), WORDS)


ROW = st.fixed_dictionaries({c.field: _value_strategy(c) for c in IMPORT_COLUMNS})
JUNK_HEADERS = st.lists(
    st.text(min_size=1, max_size=8).filter(lambda h: header_key(h) not in HEADER_LOOKUP),
    max_size=3,
    unique=True,
)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


def _write_csv(
    directory: Path, encoding: str, headers: list[str], rows: list[dict[str, str]]
) -> Path:
    path = directory / "rows.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([row.get(h, "") for h in headers] for row in rows)
    return path


def _parse(path: Path) -> list[Any]:
    _layout, rows = parse_table(open_table(path))
    return list(rows)


@settings(max_examples=120, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=5),
    encoding=st.sampled_from(ENCODINGS),
    order=st.permutations(range(len(IMPORT_COLUMNS))),
    junk_headers=JUNK_HEADERS,
    junk=st.data(),
)
def test_valid_rows_read_back_the_same(rows, encoding, order, junk_headers, junk):
    columns = [IMPORT_COLUMNS[i] for i in order]
    headers = [c.header for c in columns]
    for position, extra in enumerate(junk_headers):
        headers.insert(junk.draw(st.integers(0, len(headers)), label=f"position {position}"), extra)
    cells = []
    for row in rows:
        line = {c.header: c.converter.to_text(row[c.field]) for c in columns}
        line.update({h: junk.draw(ANY_TEXT, label=h) for h in junk_headers})
        cells.append(line)
    with tempfile.TemporaryDirectory() as directory:
        parsed = _parse(_write_csv(Path(directory), encoding, headers, cells))

    assert len(parsed) == len(rows)
    for row, result in zip(rows, parsed, strict=True):
        assert result.errors == []
        values = {**result.household, **result.member}
        values["id_number"] = values["id_number"].value
        assert values == row
        assert all(isinstance(v, Decimal) for k, v in values.items() if isinstance(row[k], Decimal))


def _junk_cell() -> st.SearchStrategy[Any]:
    return st.one_of(
        ANY_TEXT,
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.sampled_from(
            [
                "是",
                "否",
                "",
                "5.00156E+17",
                "500156198001010000",
                "2024年13月",
                "1e999",
                "NaN",
                "-0",
                "'=1+1",
                "１２３",
                "٣",
                "500156********1234",
            ]
        ),
    )


BY_FIELD = {c.field: c for c in IMPORT_COLUMNS}


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    valid=ROW,
    junk=st.dictionaries(st.sampled_from(list(BY_FIELD)), _junk_cell(), min_size=1),
    encoding=st.sampled_from(ENCODINGS),
)
def test_junk_cells_give_errors_not_exceptions(valid, junk, encoding):
    line = {c.header: c.converter.to_text(valid[c.field]) for c in IMPORT_COLUMNS}
    line.update({BY_FIELD[name].header: str(value) for name, value in junk.items()})
    with tempfile.TemporaryDirectory() as directory:
        path = _write_csv(Path(directory), encoding, list(line), [line, line])
        report = registry_import(actor=None, path=path, dry_run=True)
    # The same row twice: at least the repeated (or a bad) ID number is an error.
    assert report.errors
    assert all(isinstance(e["message"], str) and e["message"] for e in report.errors)
    assert {e["row"] for e in report.errors} <= {None, 2, 3}


@settings(max_examples=80, deadline=None)
@given(junk=st.dictionaries(st.sampled_from(IMPORT_COLUMNS), _junk_cell(), min_size=1), valid=ROW)
def test_every_spreadsheet_cell_gives_a_value_or_an_error(junk, valid):
    """Spreadsheets hand over numbers and booleans as well as text."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "junk.xlsx"
        book = xlsxwriter.Workbook(
            str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
        )
        sheet = book.add_worksheet()
        for index, column in enumerate(IMPORT_COLUMNS):
            sheet.write_string(0, index, column.header)
            value = junk.get(column, column.converter.to_text(valid[column.field]))
            if isinstance(value, bool):
                sheet.write_boolean(1, index, value)
            elif isinstance(value, float):
                sheet.write_number(1, index, value)
            else:
                sheet.write_string(1, index, "".join(ch for ch in value if ch.isprintable()))
        book.close()
        parsed = _parse(path)
    for row in parsed:
        failed = {e.column for e in row.errors}
        values = {**row.household, **row.member}
        assert all((c.field in values) != (c.header in failed) for c in IMPORT_COLUMNS)
