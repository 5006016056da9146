"""Staging department files: reading, row numbers, every kind of cell, junk rows, rejects."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import xlsxwriter

from shouwang.core.crypto import blind_index, mask_id_number
from shouwang.core.idnumber import check_character, make_id_number
from shouwang.screening.feeds import ingest
from shouwang.screening.feeds.ingest import DivisionResolver, IngestResult, stage_feed_file
from shouwang.screening.feeds.schema import age_reference_date, feed_arrow_schema
from shouwang.screening.feeds.sealing import read_staged
from shouwang.screening.sources import DEFAULT_SOURCES, ColumnSpec
from tests import factories as f

pytestmark = pytest.mark.django_db

SOURCES = {s.slug: list(s.columns) for s in DEFAULT_SOURCES}
MEDICAL = SOURCES["medical"]
WATER = SOURCES["water"]
MEDICAL_HEADER = ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"]


@pytest.fixture
def divisions():
    return DivisionResolver.for_home_division()


def write_csv(
    path: Path, rows: list[list[Any]], encoding: str = "utf-8-sig", delimiter=","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def stage(
    path: Path, divisions: DivisionResolver, columns: list[ColumnSpec] = MEDICAL, **kwargs: Any
) -> tuple[IngestResult, list[dict[str, Any]]]:
    out = path.with_suffix(".parquet")
    result = stage_feed_file(
        path=path,
        columns=columns,
        batch_id=kwargs.pop("batch_id", 41),
        period="2026-10",
        out_path=out,
        rejects_path=path.with_suffix(".rejects.csv"),
        divisions=divisions,
        **kwargs,
    )
    rows = read_staged(out).to_pylist() if out.exists() else []
    return result, rows


def rejects_rows(path: Path) -> list[list[str]]:
    with path.with_suffix(".rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def by_row(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["row_number"]: r for r in rows}


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_stages_every_field(tmp_path, divisions, encoding):
    person = f.next_id_number(birth=dt.date(1962, 4, 9), male=False)
    other = f.next_id_number(address="110105", birth=dt.date(1990, 1, 31))
    path = write_csv(
        tmp_path / "medical.csv",
        [
            ["2026年10月 医疗费用结算明细"],  # a title row above the header
            ["序号", *MEDICAL_HEADER, "医疗总费用", "统筹支付金额", "主要诊断"],
            [
                "1",
                person,
                "冉秀英",
                "2026-10-05",
                "住院",
                "¥12,345.67",
                "500156104200",
                "30000",
                "17654.33",
                "脑梗死",
            ],
            ["2", other.lower(), " 王䶮 ", "2026/9/1", "门特", "88", "火炉镇向前村", "", "", ""],
        ],
        encoding,
    )
    result, rows = stage(path, divisions, batch_id=7)
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (2, 2, 0)
    assert result.header_row == 2
    assert (
        result.encoding
        == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030"}[encoding]
    )
    assert result.headers["out_of_pocket"] == "个人自付金额"
    assert not result.rejects_written
    first, second = rows
    assert first == {
        "batch_id": 7,
        "row_number": 3,
        "person_index": blind_index(person),
        "birth_date": age_reference_date(dt.date(1962, 4, 9), dt.date(2026, 10, 5)),
        "id_region": "500156",
        "name": "冉秀英",
        "settled_on": dt.date(2026, 10, 5),
        "visit_type": "inpatient",
        "total_cost": Decimal("30000.00"),
        "reimbursed": Decimal("17654.33"),
        "out_of_pocket": Decimal("12345.67"),
        "diagnosis": "脑梗死",
        "village": f.VILLAGE_A,
    }
    assert second["row_number"] == 4
    assert second["person_index"] == blind_index(other)
    assert second["id_region"] == "110105"
    assert second["name"] == "王䶮"
    assert second["settled_on"] == dt.date(2026, 9, 1)
    assert second["visit_type"] == "special_outpatient"
    assert second["total_cost"] is None and second["diagnosis"] is None
    assert second["village"] == f.VILLAGE_A
    schema = pq.read_schema(path.with_suffix(".parquet"))
    assert schema.remove_metadata() == feed_arrow_schema(MEDICAL)
    assert schema.metadata[b"shouwang.batch_id"] == b"7"
    assert schema.metadata[b"shouwang.period"] == b"2026-10"


def test_shuffled_columns_aliases_and_unknown_columns(tmp_path, divisions):
    person = f.next_id_number()
    path = write_csv(
        tmp_path / "medical.csv",
        [
            ["备注", "自付金额", "费用结算日期", "医疗类别", "  公民身份号码 ", "参保人姓名"],
            ["不用的列", "10.5", "20261003", "普通门诊", person, "张三"],
        ],
    )
    result, rows = stage(path, divisions)
    assert result.headers == {
        "id_number": "公民身份号码",
        "name": "参保人姓名",
        "settled_on": "费用结算日期",
        "visit_type": "医疗类别",
        "out_of_pocket": "自付金额",
    }
    assert rows[0]["out_of_pocket"] == Decimal("10.50")
    assert rows[0]["visit_type"] == "outpatient"
    assert rows[0]["village"] is None


def test_headers_match_despite_full_width_brackets_spaces_and_markers(tmp_path, divisions):
    path = write_csv(
        tmp_path / "disaster.csv",
        [
            ["*户主身份证号码", "受灾 日期", "灾种", "直接经济损失(元)"],
            [f.next_id_number(), "2026-07-02", "洪涝", "5000"],
        ],
    )
    result, rows = stage(path, divisions, SOURCES["disaster"])
    assert result.rows_accepted == 1
    assert rows[0]["loss_amount"] == Decimal("5000.00")
    assert rows[0]["disaster_type"] == "flood"


def test_tab_separated_file(tmp_path, divisions):
    path = write_csv(
        tmp_path / "medical.csv",
        [MEDICAL_HEADER, [f.next_id_number(), "张三", "2026-10-01", "住院", "1,000", "向前村"]],
        delimiter="\t",
    )
    result, rows = stage(path, divisions)
    assert result.rows_accepted == 1
    assert rows[0]["out_of_pocket"] == Decimal("1000.00")


def test_row_numbers_are_those_excel_shows(tmp_path, divisions):
    """Title rows, blank lines, a cell with a line break and short rows keep Excel's numbering."""
    ids = [f.next_id_number() for _ in range(5)]
    lines = [
        "医保结算明细,,,,,",  # 1
        "",  # 2
        ",".join(MEDICAL_HEADER),  # 3
        f"{ids[0]},张三,2026-10-01,住院,1,",  # 4
        "",  # 5: blank, skipped
        f'{ids[1]},"李\n四",2026-10-01,住院,2,',  # 6: a line break inside a cell
        f"{ids[2]},王五,2026-10-01,住院,3",  # 7: one cell short
        ",,,,,",  # 8: blank
        f"{ids[3]},赵六,2026-10-01,住院,4,向前村,多出的格",  # 9: one cell too many
        f"{ids[4]},钱七,2026-10-01,住院,abc,",  # 10: rejected
    ]
    path = tmp_path / "medical.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="gb18030")
    result, rows = stage(path, divisions)
    numbers = {r["row_number"]: r["person_index"] for r in rows}
    assert numbers == {
        4: blind_index(ids[0]),
        6: blind_index(ids[1]),
        7: blind_index(ids[2]),
        9: blind_index(ids[3]),
    }
    assert by_row(rows)[6]["name"] == "李\n四"
    assert by_row(rows)[9]["village"] == f.VILLAGE_A
    assert result.header_row == 3
    assert (result.rows_read, result.rows_accepted, result.rows_rejected, result.rows_blank) == (
        5,
        4,
        1,
        2,
    )
    assert result.errors == [
        {"row": 10, "column": "个人自付金额", "message": "“abc”不是有效的金额或数值"}
    ]


def test_row_numbers_hold_across_chunks(tmp_path, divisions, monkeypatch):
    """Small blocks: short rows, blank rows and line breaks fall on and across chunk edges."""
    monkeypatch.setattr(ingest, "CSV_BLOCK_BYTES", 1024)
    monkeypatch.setattr(ingest, "CSV_CHUNK_ROWS", 30)
    monkeypatch.setattr(ingest, "ODD_CHUNK_ROWS", 7)
    ids = [f.next_id_number(birth=dt.date(1950 + i % 50, 1, 1)) for i in range(400)]
    lines = [",".join(MEDICAL_HEADER)]
    expected: dict[int, str] = {}
    for i, person in enumerate(ids):
        number = len(lines) + 1
        if i % 7 == 0:
            lines.append("")
            number += 1
        if i % 5 == 0:
            lines.append(f'{person},"多\n行",2026-10-01,住院,{i}')  # short and multi-line
        elif i % 3 == 0:
            lines.append(f"{person},张{i},2026-10-01,住院,{i}")  # short
        else:
            lines.append(f"{person},张{i},2026-10-01,住院,{i},向前村")
        expected[number] = blind_index(person)
    path = tmp_path / "medical.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    progress: list[tuple[int, int]] = []
    result, rows = stage(
        path, divisions, on_progress=lambda done, total: progress.append((done, total))
    )
    assert {r["row_number"]: r["person_index"] for r in rows} == expected
    assert {r["row_number"]: r["out_of_pocket"] for r in rows} == {
        n: Decimal(i) for i, n in enumerate(expected)
    }
    assert result.rows_accepted == 400 and result.rows_rejected == 0
    assert len(progress) > 3
    assert [done for done, _total in progress] == sorted(done for done, _total in progress)


def test_xlsx_cells_of_every_kind(tmp_path, divisions, monkeypatch):
    monkeypatch.setattr(ingest, "SPREADSHEET_CHUNK_ROWS", 2)
    # ids[2] goes into a number cell: skip numbers ending in X, which the sequence can reach.
    ids = [i for i in (f.next_id_number() for _ in range(12)) if not i.endswith("X")][:4]
    path = tmp_path / "medical.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("结算")
    sheet.write_string(0, 0, "2026年10月结算明细")
    sheet.write_row(2, 0, MEDICAL_HEADER + ["医疗总费用"])
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(3, 0, ids[0])
    sheet.write_string(3, 1, "张三")
    sheet.write_datetime(3, 2, dt.datetime(2026, 10, 5), date_format)
    sheet.write_string(3, 3, "住院")
    sheet.write_number(3, 4, 1234.5)
    sheet.write_string(3, 5, "火炉社区")
    sheet.write_number(3, 6, 0.1 + 0.2)
    # row 5 left empty
    sheet.write_string(5, 0, ids[1])
    sheet.write_number(5, 2, 46300)  # a date cell without its date format: the serial
    sheet.write_string(5, 3, "门诊")
    sheet.write_number(5, 4, 12)
    sheet.write_number(6, 0, float(ids[2]))  # an ID typed into a number cell
    sheet.write_string(6, 2, "2026-10-05")
    sheet.write_string(6, 3, "住院")
    sheet.write_number(6, 4, 1)
    sheet.write_string(7, 0, ids[3])
    sheet.write_string(7, 2, "2026/10/5")
    sheet.write_string(7, 3, "住院")
    sheet.write_string(7, 4, "5")
    sheet.write_number(7, 5, int(f.VILLAGE_B))  # a village code as a number
    book.close()
    result, rows = stage(path, divisions)
    assert result.header_row == 3
    assert (result.rows_read, result.rows_accepted, result.rows_rejected, result.rows_blank) == (
        4,
        3,
        1,
        1,
    )
    staged = by_row(rows)
    assert staged[4]["settled_on"] == dt.date(2026, 10, 5)
    assert staged[4]["out_of_pocket"] == Decimal("1234.50")
    assert staged[4]["total_cost"] == Decimal("0.30")
    assert staged[4]["village"] == f.VILLAGE_B
    assert staged[6]["settled_on"] == dt.date(1899, 12, 30) + dt.timedelta(days=46300)
    assert staged[8]["village"] == f.VILLAGE_B
    (error,) = result.errors
    assert error["row"] == 7 and error["column"] == "身份证号码"
    assert "Excel" in error["message"]


def test_unsupported_and_empty_files_are_refused(tmp_path, divisions):
    text = tmp_path / "medical.txt"
    text.write_text("x")
    result, rows = stage(text, divisions)
    assert result.file_rejected and "不支持的文件类型" in result.file_error
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result, rows = stage(empty, divisions)
    assert result.file_error == "文件是空的"
    assert rows == [] and not empty.with_suffix(".parquet").exists()


# -- the header -----------------------------------------------------------------------------


def test_missing_required_columns_refuse_the_whole_file(tmp_path, divisions):
    path = write_csv(
        tmp_path / "medical.csv",
        [["标题"], ["身份证号码", "姓名", "主要诊断"], [f.next_id_number(), "张三", "x"]],
    )
    result, rows = stage(path, divisions)
    assert result.file_rejected
    assert result.file_error.startswith(
        "缺少必需的列：结算日期（或：费用结算日期、出院日期）、就诊类别"
    )
    assert "个人自付金额" in result.file_error and "表头在第 2 行" in result.file_error
    assert result.errors == [{"row": 2, "column": "", "message": result.file_error}]
    assert result.error_counts == {"file": 1}
    assert not path.with_suffix(".parquet").exists()
    assert rejects_rows(path)[1] == ["2", "", result.file_error, ""]


def test_no_header_in_the_first_rows(tmp_path, divisions):
    path = write_csv(tmp_path / "medical.csv", [["a", "b"], ["1", "2"]])
    result, _rows = stage(path, divisions)
    assert result.file_error.startswith("前 10 行中没有找到表头")


def test_two_columns_for_one_field_refuse_the_file(tmp_path, divisions):
    path = write_csv(
        tmp_path / "medical.csv",
        [
            MEDICAL_HEADER + ["身份证号"],
            [f.next_id_number(), "张三", "2026-10-01", "住院", "1", "", ""],
        ],
    )
    result, _rows = stage(path, divisions)
    assert "列“身份证号码”和“身份证号”都是“身份证号码”" in result.file_error


# -- junk rows ------------------------------------------------------------------------------


def test_total_and_repeated_header_rows_are_rejected_not_staged(tmp_path, divisions):
    person = f.next_id_number()
    path = write_csv(
        tmp_path / "medical.csv",
        [
            MEDICAL_HEADER,
            [person, "张三", "2026-10-01", "住院", "100", ""],
            MEDICAL_HEADER,  # a second sheet pasted under the first
            [person, "张三", "2026-10-02", "住院", "50", ""],
            ["合计", "", "", "", "150", ""],
            ["", "总 计：", "", "", "150", ""],
        ],
    )
    result, rows = stage(path, divisions)
    assert sorted(rows_ := [r["row_number"] for r in rows]) == rows_ == [2, 4]
    assert result.errors == [
        {"row": 3, "column": "", "message": "重复的表头行，不是数据"},
        {"row": 5, "column": "", "message": "合计行，不是明细数据"},
        {"row": 6, "column": "", "message": "合计行，不是明细数据"},
    ]
    assert result.error_counts == {"header_row": 1, "total_row": 2}
    # Junk rows carry no ID to mask.
    assert [r[3] for r in rejects_rows(path)[1:]] == ["", "", ""]


# -- ID numbers -----------------------------------------------------------------------------


def test_bad_id_numbers_are_rejected_with_the_reason_and_masked(tmp_path, divisions):
    # A number whose last three digits turned into 000 is not valid by chance.
    good = next(
        value
        for sequence in range(1, 999, 2)
        if check_character(
            (value := make_id_number("500156", dt.date(1980, 5, 17), sequence))[:15] + "00"
        )
        != "0"
    )
    truncated = good[:15] + "000"
    wrong_check = good[:17] + ("1" if good[17] != "1" else "2")
    rows = [
        MEDICAL_HEADER,
        [good, "好", "2026-10-01", "住院", "1", ""],
        ["5.00156E+17", "科学计数", "2026-10-01", "住院", "1", ""],
        [truncated, "截断", "2026-10-01", "住院", "1", ""],
        [wrong_check, "校验", "2026-10-01", "住院", "1", ""],
        ["", "空", "2026-10-01", "住院", "1", ""],
        ["50015619800517123", "短", "2026-10-01", "住院", "1", ""],
        ["990156198005171234", "省", "2026-10-01", "住院", "1", ""],
        [
            make_id_number("500156", dt.date(1980, 5, 17), 1)[:10] + "0230" + "0011",
            "日期",
            "2026-10-01",
            "住院",
            "1",
            "",
        ],
    ]
    path = write_csv(tmp_path / "medical.csv", rows)
    result, staged = stage(path, divisions)
    assert [r["row_number"] for r in staged] == [2]
    messages = {e["row"]: e["message"] for e in result.errors}
    assert "科学计数法" in messages[3]
    assert "末三位为 000" in messages[4]
    assert messages[5].startswith("身份证号码校验位错误")
    assert messages[6] == "不能为空"
    assert messages[7] == "身份证号码应为 18 位，实际为 17 位"
    assert "不属于任何省份" in messages[8]
    assert "不是有效日期" in messages[9]
    assert result.error_counts == {"id_number": 6, "required": 1}
    masked = {int(r[0]): r[3] for r in rejects_rows(path)[1:]}
    assert masked[4] == mask_id_number(truncated)
    assert masked[5] == mask_id_number(wrong_check)
    assert masked[6] == ""
    # Raw numbers are in neither file.
    for raw in (good, truncated, wrong_check):
        assert raw not in path.with_suffix(".rejects.csv").read_text(encoding="utf-8-sig")
        assert raw.encode() not in path.with_suffix(".parquet").read_bytes()
    assert all(raw not in str(v) for r in staged for v in r.values() for raw in (good,))


def test_id_numbers_with_spaces_and_odd_whitespace_match_the_registry_check(tmp_path, divisions):
    person = f.next_id_number()
    spaced = f"{person[:6]} {person[6:14]} {person[14:]}"
    path = write_csv(
        tmp_path / "medical.csv",
        [
            MEDICAL_HEADER,
            [spaced, "空格", "2026-10-01", "住院", "1", ""],
            ["\u3000" + person + "\u3000", "全角空格", "2026-10-01", "住院", "1", ""],
            ["\x1c" + person, "控制字符", "2026-10-01", "住院", "1", ""],
            ["５" + person[1:], "全角数字", "2026-10-01", "住院", "1", ""],
        ],
    )
    result, staged = stage(path, divisions)
    assert [r["row_number"] for r in staged] == [2, 3, 4]
    assert {r["person_index"] for r in staged} == {blind_index(person)}
    assert [e["row"] for e in result.errors] == [5]


def test_feed_without_id_column_keeps_person_columns_empty(tmp_path, divisions):
    path = write_csv(
        tmp_path / "water.csv",
        [
            ["村（社区）", "停水日期", "停水天数", "影响户数", "停水原因"],
            ["火炉镇向前村", "2026-10-03", "3", "1,200", "管道爆裂"],
            ["武隆区火炉镇 火炉社区", "2026-10-04", "2.0", "", ""],
            ["不存在村", "2026-10-04", "2", "", ""],
            ["向前村", "2026-10-04", "三天", "-", ""],
            ["", "2026-10-04", "1", "", ""],
        ],
    )
    result, staged = stage(path, divisions, WATER)
    first, second = staged
    assert first["person_index"] is None and first["birth_date"] is None
    assert (first["village"], first["outage_days"], first["households_affected"]) == (
        f.VILLAGE_A,
        3,
        1200,
    )
    assert (second["village"], second["outage_days"], second["households_affected"]) == (
        f.VILLAGE_B,
        2,
        None,
    )
    assert result.errors == [
        {
            "row": 4,
            "column": "村（社区）",
            "message": "未找到村（社区）“不存在村”；请填写本区县的村名（可加乡镇名）或 12 位区划代码",
        },
        {"row": 5, "column": "停水天数", "message": "“三天”不是有效的整数"},
        {"row": 5, "column": "影响户数", "message": "“-”不是有效的整数"},
        {"row": 6, "column": "村（社区）", "message": "不能为空"},
    ]
    assert result.error_counts == {"division": 1, "integer": 2, "required": 1}
    assert result.rows_rejected == 3


def test_optional_village_not_recognised_keeps_the_row(tmp_path, divisions):
    path = write_csv(
        tmp_path / "medical.csv",
        [
            MEDICAL_HEADER,
            [f.next_id_number(), "张三", "2026-10-01", "住院", "1", "外省某村"],
            [f.next_id_number(), "李四", "2026-10-01", "住院", "1", "110105001001"],
        ],
    )
    result, staged = stage(path, divisions)
    assert [r["village"] for r in staged] == [None, None]
    assert result.rows_rejected == 0 and result.villages_unresolved == 2


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05", dt.date(2026, 10, 5)),
        ("2026/10/5", dt.date(2026, 10, 5)),
        ("2026.10.05", dt.date(2026, 10, 5)),
        ("2026年10月5日", dt.date(2026, 10, 5)),
        ("20261005", dt.date(2026, 10, 5)),
        ("2026-10-05 08:30:00", dt.date(2026, 10, 5)),
        ("２０２６－１０－０５", dt.date(2026, 10, 5)),
        ("46300", dt.date(2026, 10, 5)),
        ("2026-02-30", "“2026-02-30”不是有效的日期"),
        ("10/05/2026", "“10/05/2026”不是有效的日期（例如 2026-10-05）"),
        ("1850-01-01", "日期“1850-01-01”超出合理范围"),
    ],
)
def test_dates(tmp_path, divisions, text, expected):
    path = write_csv(
        tmp_path / "medical.csv",
        [MEDICAL_HEADER, [f.next_id_number(), "张三", text, "住院", "1", ""]],
    )
    result, staged = stage(path, divisions)
    if isinstance(expected, dt.date):
        assert staged[0]["settled_on"] == expected
    else:
        assert result.errors == [{"row": 2, "column": "结算日期", "message": expected}]
        assert result.error_counts == {"date": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", Decimal("1234.50")),
        ("¥1,234.50", Decimal("1234.50")),
        ("￥ 1 234", Decimal("1234.00")),
        ("1234元", Decimal("1234.00")),
        ("１２３.４", Decimal("123.40")),
        (".5", Decimal("0.50")),
        ("-3.005", Decimal("-3.01")),
        ("12.344999", Decimal("12.34")),
        ("12.345", Decimal("12.35")),
        ("9999999999999999.99", Decimal("9999999999999999.99")),
        ("1e5", None),
        ("12.3.4", None),
        ("-", None),
        ("12345678901234567", None),
        ("一百", None),
    ],
)
def test_amounts(tmp_path, divisions, text, expected):
    path = write_csv(
        tmp_path / "medical.csv",
        [MEDICAL_HEADER, [f.next_id_number(), "张三", "2026-10-01", "住院", text, ""]],
    )
    result, staged = stage(path, divisions)
    if expected is not None:
        assert staged[0]["out_of_pocket"] == expected
    else:
        assert staged == []
        (error,) = result.errors
        assert error["column"] == "个人自付金额" and error["message"].endswith(
            "不是有效的金额或数值"
        )


def test_choices_accept_labels_and_values_and_name_the_options(tmp_path, divisions):
    path = write_csv(
        tmp_path / "housing.csv",
        [
            ["户主身份证号码", "鉴定日期", "鉴定等级"],
            [f.next_id_number(), "2026-10-01", "Ｃ级"],  # full-width letter
            [f.next_id_number(), "2026-10-01", " D "],
            [f.next_id_number(), "2026-10-01", "E级"],
            [f.next_id_number(), "2026-10-01", ""],
        ],
    )
    result, staged = stage(path, divisions, SOURCES["housing"])
    assert [r["grade"] for r in staged] == ["C", "D"]
    assert result.errors == [
        {
            "row": 4,
            "column": "鉴定等级",
            "message": "“E级”不是可选值；可选：A、A级、B、B级、C、C级、D、D级",
        },
        {"row": 5, "column": "鉴定等级", "message": "不能为空"},
    ]


def test_rejects_file_lists_every_problem_of_a_row(tmp_path, divisions):
    person = f.next_id_number()
    path = write_csv(
        tmp_path / "medical.csv",
        [MEDICAL_HEADER, [person, "张三", "昨天", "牙科", "", ""]],
    )
    result, staged = stage(path, divisions)
    assert staged == [] and result.rows_rejected == 1
    assert rejects_rows(path) == [
        ["行号", "列", "原因", "身份证号码（已脱敏）"],
        ["2", "结算日期", "“昨天”不是有效的日期（例如 2026-10-05）", mask_id_number(person)],
        [
            "2",
            "就诊类别",
            "“牙科”不是可选值；可选：住院、普通门诊、门诊、门诊特殊疾病、门特、门诊慢特病",
            mask_id_number(person),
        ],
        ["2", "个人自付金额", "不能为空", mask_id_number(person)],
    ]
    assert path.with_suffix(".rejects.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_errors_kept_are_capped_but_counts_and_rejects_are_complete(
    tmp_path, divisions, monkeypatch
):
    monkeypatch.setattr(ingest, "ERRORS_KEPT", 5)
    rows = [MEDICAL_HEADER] + [
        [f.next_id_number(), "张三", "2026-10-01", "住院", "x", ""] for _ in range(12)
    ]
    path = write_csv(tmp_path / "medical.csv", rows)
    result, _staged = stage(path, divisions)
    assert len(result.errors) == 5
    assert result.rows_rejected == 12 and result.error_counts == {"decimal": 12}
    assert len(rejects_rows(path)) == 13


# -- villages -------------------------------------------------------------------------------


def test_division_resolver_names_codes_and_ambiguity():
    resolver = DivisionResolver(
        [
            ("500156104200", "向前村村民委员会", "火炉镇"),
            ("500156104001", "火炉社区居民委员会", "火炉镇"),
            ("500156202200", "向前村村民委员会", "石桥苗族土家族乡"),
            ("500156202201", "贾角村村民委员会", "石桥苗族土家族乡"),
        ],
        area_names=["武隆区", "重庆市"],
    )
    assert resolver.resolve("500156104001") == ("500156104001", "")
    assert resolver.resolve("火炉镇向前村") == ("500156104200", "")
    assert resolver.resolve("火炉镇/向前村村民委员会") == ("500156104200", "")
    assert resolver.resolve("石桥乡 向前村委会") == ("500156202200", "")
    assert resolver.resolve("重庆市武隆区石桥苗族土家族乡向前村") == ("500156202200", "")
    assert resolver.resolve("火炉社区") == ("500156104001", "")
    assert resolver.resolve("贾角") == ("500156202201", "")
    code, message = resolver.resolve("向前村")
    assert code is None and "在多个乡镇都有（火炉镇、石桥苗族土家族乡）" in message
    code, message = resolver.resolve("500156000000")
    assert code is None and "不是本区县的村（社区）区划代码" in message
    assert resolver.resolve("火炉镇贾角村")[0] is None


def test_division_resolver_loads_the_home_county(settings):
    resolver = DivisionResolver.for_home_division()
    assert f.VILLAGE_A in resolver.codes and f.VILLAGE_OTHER_TOWNSHIP in resolver.codes
    assert len(resolver.codes) == 214
    assert resolver.resolve("武隆区凤山街道芋荷村") == (f.VILLAGE_OTHER_TOWNSHIP, "")
    settings.SHOUWANG_HOME_DIVISION = f.TOWNSHIP_HUOLU
    township = DivisionResolver.for_home_division()
    assert f.VILLAGE_A in township.codes and f.VILLAGE_OTHER_TOWNSHIP not in township.codes


@pytest.mark.parametrize("block_bytes", [1 << 20, 256])
def test_undecodable_bytes_refuse_the_file(tmp_path, divisions, monkeypatch, block_bytes):
    monkeypatch.setattr(ingest, "CSV_BLOCK_BYTES", block_bytes)
    lines = [",".join(MEDICAL_HEADER).encode("gb18030")]
    lines += [
        f"{f.next_id_number()},张三,2026-10-01,住院,1,".encode("gb18030") for _ in range(2000)
    ]
    lines.append(b"\xff\xfe,broken,2026-10-01,\xff,1,")
    path = tmp_path / "medical.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    result, rows = stage(path, divisions)
    assert result.encoding == "gb18030"
    assert "的内容无法读取" in result.file_error
    assert "文件应为 UTF-8 或 GB18030 编码的 CSV" in result.file_error
    assert rows == [] and not path.with_suffix(".parquet").exists()
