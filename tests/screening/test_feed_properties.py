"""Property tests of feed staging: whatever the encoding, column order, title and junk rows,
every good row is staged with its values under its Excel row number, every bad row is rejected
under its number, and raw ID numbers end up in neither output file."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shouwang.core.crypto import blind_index
from shouwang.core.idnumber import IdNumberError, make_id_number, parse_id_number
from shouwang.screening.feeds.ingest import DivisionResolver, stage_feed_file
from shouwang.screening.feeds.schema import age_reference_date
from shouwang.screening.feeds.sealing import read_staged
from shouwang.screening.sources import DEFAULT_SOURCES, ColumnSpec
from tests import factories as f

pytestmark = pytest.mark.django_db

MEDICAL = list(next(s for s in DEFAULT_SOURCES if s.slug == "medical").columns)
BY_FIELD = {c.field: c for c in MEDICAL}
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030"]
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

#: Names: CJK (a rare one too), Latin letters, the middle dot, commas, quotes and line breaks,
#: which the CSV writer quotes.
NAMES = (
    st.text(
        alphabet=st.sampled_from(list("王李张刘陈杨冉䶮堃犇龘abcXYZ·, \"'\n")),
        min_size=1,
        max_size=10,
    )
    .map(str.strip)
    .filter(bool)
)
VILLAGES = [
    (f.VILLAGE_A, ["500156104200", "向前村", "火炉镇向前村", "火炉镇 向前村", "向前村村民委员会"]),
    (f.VILLAGE_B, ["500156104001", "火炉社区", "火炉镇火炉社区"]),
    (f.VILLAGE_OTHER_TOWNSHIP, ["500156001200", "芋荷村", "凤山街道芋荷村"]),
]


def id_numbers() -> st.SearchStrategy[str]:
    return st.builds(
        make_id_number,
        st.sampled_from(["500156", "110105", "440305", "530102", "810000"]),
        st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
        st.integers(min_value=0, max_value=999),
    )


def date_texts(day: dt.date) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            day.isoformat(),
            f"{day.year}/{day.month}/{day.day}",
            f"{day:%Y%m%d}",
            f"{day.year}年{day.month}月{day.day}日",
            f"{day.isoformat()} 00:00:00",
            str((day - dt.date(1899, 12, 30)).days),
        ]
    )


def amount_texts(value: Decimal) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [f"{value}", f"¥{value:,}", f"{value:,}元", f" {value} ", f"{value:.3f}"]
    )


@dataclass
class Row:
    kind: str  # "good", "bad", "blank", "total", "header"
    cells: dict[str, str]
    #: For good rows: field → the staged value; for bad rows: the field that is wrong.
    expected: dict[str, Any]
    bad_field: str = ""


@st.composite
def good_rows(draw: st.DrawFn) -> Row:
    person = draw(id_numbers())
    day = draw(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 10, 31)))
    label, visit = draw(st.sampled_from(sorted(BY_FIELD["visit_type"].choices.items())))
    amount = draw(st.decimals(min_value=0, max_value=10**7, places=2))
    name = draw(NAMES)
    village_code, village_texts = draw(st.sampled_from(VILLAGES))
    village_text = draw(st.sampled_from(village_texts))
    if draw(st.booleans()):
        village_text, village_code = draw(st.sampled_from([("", None), ("外省某某村", None)]))
    id_text = draw(st.sampled_from([person, f" {person} ", person.lower()]))
    parsed = parse_id_number(person)
    return Row(
        kind="good",
        cells={
            "id_number": id_text,
            "name": name,
            "settled_on": draw(date_texts(day)),
            "visit_type": label,
            "out_of_pocket": draw(amount_texts(amount)),
            "village": village_text,
        },
        expected={
            "person_index": blind_index(person),
            "birth_date": age_reference_date(parsed.birth_date, day),
            "id_region": person[:6],
            "name": name,
            "settled_on": day,
            "visit_type": visit,
            "out_of_pocket": amount,
            "village": village_code,
            "_raw_id": person,
        },
    )


@st.composite
def bad_rows(draw: st.DrawFn) -> Row:
    row = draw(good_rows())
    field = draw(
        st.sampled_from(["id_number", "settled_on", "visit_type", "out_of_pocket", "empty"])
    )
    person = row.expected["_raw_id"]
    broken = {
        "id_number": person[:17] + ("0" if person[17] != "0" else "1"),
        "settled_on": draw(st.sampled_from(["2026-13-01", "2026-02-30", "昨天", "10/05/2026"])),
        "visit_type": draw(st.sampled_from(["牙科", "急诊", "inpatient?"])),
        "out_of_pocket": draw(st.sampled_from(["abc", "1.2.3", "1e5", "--5"])),
    }
    if field == "empty":
        field = draw(st.sampled_from(["id_number", "settled_on", "visit_type", "out_of_pocket"]))
        row.cells[field] = ""
    else:
        row.cells[field] = broken[field]
    row.kind, row.bad_field = "bad", field
    return row


def junk_rows() -> st.SearchStrategy[Row]:
    return st.sampled_from(
        [
            Row(kind="blank", cells={}, expected={}),
            Row(kind="total", cells={"id_number": "合计", "out_of_pocket": "12345"}, expected={}),
            Row(kind="total", cells={"name": "总计：", "out_of_pocket": "9"}, expected={}),
            Row(kind="header", cells={}, expected={}),
        ]
    )


@st.composite
def feed_files(draw: st.DrawFn) -> dict[str, Any]:
    optional = [c for c in MEDICAL if not c.required and c.field in ("name", "village")]
    included = [c for c in MEDICAL if c.required] + [c for c in optional if draw(st.booleans())]
    headers = {c.field: draw(st.sampled_from(c.headers)) for c in included}
    extras = draw(
        st.lists(st.sampled_from(["序号", "备注", "经办机构", "险种"]), max_size=2, unique=True)
    )
    order = draw(st.permutations([c.field for c in included] + extras))
    titles = draw(
        st.lists(st.sampled_from(["武隆区医疗费用结算明细", "制表单位：医保局", ""]), max_size=2)
    )
    rows = draw(st.lists(st.one_of(good_rows(), good_rows(), bad_rows(), junk_rows()), max_size=25))
    return {
        "encoding": draw(st.sampled_from(ENCODINGS)),
        "included": {c.field for c in included},
        "headers": headers,
        "order": order,
        "titles": titles,
        "rows": rows,
    }


def write_file(directory: Path, spec: dict[str, Any]) -> tuple[Path, int]:
    """Write the CSV; returns it and the Excel row number of the header."""
    path = directory / "feed.csv"
    order = spec["order"]
    header_cells = [spec["headers"].get(name, name) for name in order]
    with path.open("w", encoding=spec["encoding"], newline="") as handle:
        writer = csv.writer(handle)
        for title in spec["titles"]:
            writer.writerow([title] if title else [])
        writer.writerow(header_cells)
        for row in spec["rows"]:
            if row.kind == "header":
                writer.writerow(header_cells)
            elif row.kind == "blank":
                writer.writerow(["" for _ in order])
            else:
                writer.writerow([row.cells.get(name, "") for name in order])
    return path, len(spec["titles"]) + 1


def stage(path: Path, divisions: DivisionResolver, columns: list[ColumnSpec] = MEDICAL):
    result = stage_feed_file(
        path=path,
        columns=columns,
        batch_id=3,
        period="2026-10",
        out_path=path.with_suffix(".parquet"),
        rejects_path=path.with_suffix(".rejects.csv"),
        divisions=divisions,
    )
    return result


@pytest.fixture
def divisions():
    return DivisionResolver.for_home_division()


@SETTINGS
@given(spec=feed_files())
def test_good_rows_are_staged_and_bad_rows_rejected_by_row_number(divisions, spec):
    with tempfile.TemporaryDirectory() as directory:
        path, header_row = write_file(Path(directory), spec)
        result = stage(path, divisions)
        assert not result.file_rejected, result.file_error
        assert result.header_row == header_row
        staged = read_staged(path.with_suffix(".parquet")).to_pylist()
        staged_by_row = {r["row_number"]: r for r in staged}
        rejected_rows = {e["row"] for e in result.errors}
        rejects_text = (
            path.with_suffix(".rejects.csv").read_text(encoding="utf-8-sig")
            if result.rejects_written
            else ""
        )
        parquet_bytes = path.with_suffix(".parquet").read_bytes()
        included = spec["included"]
        expected_good = expected_bad = blank = 0
        for offset, row in enumerate(spec["rows"], start=1):
            number = header_row + offset
            if row.kind == "good":
                expected_good += 1
                assert number in staged_by_row, (number, row, result.errors)
                values = staged_by_row[number]
                for name, value in row.expected.items():
                    if name.startswith("_") or name not in included and name in BY_FIELD:
                        continue
                    assert values[name] == value, (number, name, row.cells)
                assert number not in rejected_rows
            elif row.kind == "blank":
                blank += 1
                assert number not in staged_by_row and number not in rejected_rows
            else:
                expected_bad += 1
                assert number not in staged_by_row
                assert number in rejected_rows, (number, row, result.errors)
            raw = row.expected.get("_raw_id")
            if raw:
                assert raw not in rejects_text
                assert raw.encode() not in parquet_bytes
                assert all(raw not in str(v) for r in staged for v in r.values())
        assert result.rows_accepted == expected_good == len(staged)
        assert result.rows_rejected == expected_bad
        assert result.rows_blank == blank
        assert result.rows_read == expected_good + expected_bad


#: Mutations of a valid ID number: some keep it valid (whitespace, lower-case x), most do not.
ID_MUTATIONS = st.sampled_from(
    [
        "same",
        "spaces",
        "padded",
        "full_width_space",
        "tab",
        "lower_x",
        "digit",
        "truncate",
        "extend",
        "zeros",
        "full_width_digit",
        "letter",
        "province",
        "month",
        "future",
        "scientific",
    ]
)


def mutate(value: str, how: str, position: int, digit: str) -> str:
    if how == "same":
        return value
    if how == "spaces":
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    if how == "padded":
        return f"  {value}  "
    if how == "full_width_space":
        return f"\u3000{value}"
    if how == "tab":
        return f"\t{value}"
    if how == "lower_x":
        return value.replace("X", "x")
    if how == "digit":
        return value[:position] + digit + value[position + 1 :]
    if how == "truncate":
        return value[:position]
    if how == "extend":
        return value + digit
    if how == "zeros":
        return value[:15] + "000"
    if how == "full_width_digit":
        return value[:position] + chr(ord(digit) + 0xFEE0) + value[position + 1 :]
    if how == "letter":
        return value[:position] + "A" + value[position + 1 :]
    if how == "province":
        return "99" + value[2:]
    if how == "month":
        return value[:10] + "13" + value[12:]
    if how == "future":
        return value[:6] + "2999" + value[10:]
    return f"{value[0]}.{value[1:6]}E+17"


@SETTINGS
@given(
    cases=st.lists(
        st.tuples(
            id_numbers(),
            ID_MUTATIONS,
            st.integers(min_value=0, max_value=17),
            st.sampled_from("0123456789X"),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_id_checks_agree_with_the_registry_parser(divisions, cases):
    """The vectorised check accepts exactly what ``parse_id_number`` accepts, and says why not."""
    texts = [mutate(value, how, position, digit) for value, how, position, digit in cases]
    columns = [MEDICAL[0], BY_FIELD["settled_on"]]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ids.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["身份证号码", "结算日期"])
            writer.writerows([text, "2026-10-01"] for text in texts)
        result = stage(path, divisions, columns)
        staged = (
            {r["row_number"]: r for r in read_staged(path.with_suffix(".parquet")).to_pylist()}
            if path.with_suffix(".parquet").exists()
            else {}
        )
        errors = {e["row"]: e["message"] for e in result.errors}
    for number, text in enumerate(texts, start=2):
        try:
            parsed = parse_id_number(text)
        except IdNumberError as exc:
            assert number not in staged, text
            assert errors[number] == (str(exc) if text.strip() else "不能为空"), text
        else:
            assert staged[number]["person_index"] == blind_index(parsed.value), text
            assert staged[number]["birth_date"] == age_reference_date(
                parsed.birth_date, dt.date(2026, 10, 1)
            )
            assert staged[number]["id_region"] == parsed.value[:6]
