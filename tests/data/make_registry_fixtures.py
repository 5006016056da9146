"""Regenerate the registry import fixtures of this directory.

    .venv/bin/python tests/data/make_registry_fixtures.py

registry_gb18030_title_row.csv: a department-style export: GB18030 without BOM, a title line
above the header, the columns in another order, and columns the importer does not know.
registry_excel_damaged.xlsx: three rows whose ID cells Excel damaged in the three usual ways.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: dt.date, sequence: int) -> str:
    first17 = f"500156{birth:%Y%m%d}{sequence:03d}"
    return (
        first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
    )


HEADERS = [
    "户编号",
    "行政区划代码",
    "乡镇（街道）",
    "行政村（社区）",
    "户类型",
    "监测对象类别",
    "监测状态",
    "识别监测时间",
    "风险消除方式",
    "消除监测时间",
    "致贫/返贫风险1",
    "致贫/返贫风险2",
    "致贫/返贫风险3",
    "致贫/返贫风险4",
    "致贫/返贫风险5",
    "联系电话",
    "收入年度",
    "工资性收入（元）",
    "生产经营性收入（元）",
    "财产性收入（元）",
    "转移性收入（元）",
    "生产经营性支出（元）",
    "人均纯收入（元）",
    "合规自付支出（元）",
    "住房安全有保障",
    "饮水安全有保障",
    "易地扶贫搬迁户",
    "安置点",
    "安置方式",
    "网格员",
    "姓名",
    "证件号码",
    "性别",
    "出生日期",
    "与户主关系",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "残疾等级",
    "残疾类别",
    "劳动技能",
    "务工状况",
    "务工时间（月）",
    "参加城乡居民基本医疗保险",
    "参加大病保险",
    "参加城乡居民基本养老保险",
    "享受低保/特困供养政策",
]


def household(
    number: str, village: str, township_name: str, village_name: str, **changes: str
) -> dict[str, str]:
    row = {h: "" for h in HEADERS}
    row.update(
        {
            "户编号": number,
            "行政区划代码": village,
            "乡镇（街道）": township_name,
            "行政村（社区）": village_name,
            "户类型": "脱贫户",
            "监测状态": "未纳入监测",
            "联系电话": "13800138000",
            "收入年度": "2024",
            "工资性收入（元）": "18000",
            "生产经营性收入（元）": "2500.5",
            "财产性收入（元）": "0",
            "转移性收入（元）": "3600",
            "生产经营性支出（元）": "600",
            "人均纯收入（元）": "11750.25",
            "合规自付支出（元）": "0",
            "住房安全有保障": "是",
            "饮水安全有保障": "是",
            "易地扶贫搬迁户": "否",
        }
    )
    row.update(changes)
    return row


def member(name: str, number: str, relation: str, **changes: str) -> dict[str, str]:
    row = {
        "姓名": name,
        "证件号码": number,
        "与户主关系": relation,
        "民族": "土家族",
        "文化程度": "初中",
        "在校生状况": "非在校生",
        "健康状况": "健康",
        "劳动技能": "普通劳动力",
        "务工状况": "县内务工",
        "务工时间（月）": "8",
        "参加城乡居民基本医疗保险": "是",
        "参加大病保险": "是",
        "参加城乡居民基本养老保险": "是",
        "享受低保/特困供养政策": "未享受",
    }
    row.update(changes)
    return row


def gb18030_csv() -> None:
    first = household("500156104200100001", "500156104200", "火炉镇", "向前村")
    second = household(
        "500156104001100002",
        "500156104001",
        "火炉镇",
        "火炉社区",
        户类型="监测户",
        监测对象类别="边缘易致贫户",
        监测状态="风险未消除",
        识别监测时间="202311",
        **{"致贫/返贫风险1": "因缺劳动力"},
    )
    rows = [
        {**first, **member("冉光荣", id_number(dt.date(1968, 4, 2), 17), "户主")},
        {**first, **member("冉秀英", id_number(dt.date(1970, 9, 30), 24), "配偶")},
        {
            **second,
            **member(
                "喻堃",
                id_number(dt.date(1955, 12, 1), 31),
                "户主",
                健康状况="长期慢性病",
                劳动技能="弱劳动力或半劳动力",
                务工状况="未务工",
                **{"务工时间（月）": "0"},
            ),
        },
    ]
    order = HEADERS[:]
    random.Random(500156).shuffle(order)
    order = ["序号", *order, "备注"]
    with (HERE / "registry_gb18030_title_row.csv").open(
        "w", encoding="gb18030", newline=""
    ) as handle:
        writer = csv.writer(handle)
        writer.writerow(["武隆区防止返贫监测对象信息（导出日期：2025-06-30）"])
        writer.writerow(order)
        for n, row in enumerate(rows, start=1):
            writer.writerow(
                [str(n) if h == "序号" else "核实中" if h == "备注" else row[h] for h in order]
            )


def damaged_xlsx() -> None:
    book = xlsxwriter.Workbook(str(HERE / "registry_excel_damaged.xlsx"))
    sheet = book.add_worksheet("监测对象信息")
    sheet.write_row(0, 0, HEADERS)
    good = id_number(dt.date(1981, 6, 15), 113)
    damaged: list[str | float] = [float(good), "5.00156E+17", good[:15] + "000"]
    for r, id_cell in enumerate(damaged, start=1):
        row = {
            **household(f"50015610420020000{r}", "500156104200", "火炉镇", "向前村"),
            **member(f"测试{r}", "", "户主"),
        }
        for col, header in enumerate(HEADERS):
            if header == "证件号码" and isinstance(id_cell, float):
                sheet.write_number(r, col, id_cell)
            elif header == "证件号码":
                sheet.write_string(r, col, id_cell)
            else:
                sheet.write_string(r, col, row[header])
    book.close()


if __name__ == "__main__":
    gb18030_csv()
    damaged_xlsx()
