"""``shouwang feeds template|import|list``."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from shouwang.screening.choices import BatchStatus
from shouwang.screening.models import FeedBatch
from tests import factories as f

pytestmark = pytest.mark.django_db

MEDICAL_HEADER = ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("feeds", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def medical_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MEDICAL_HEADER)
        writer.writerows(rows)
    return path


def test_template_writes_the_sources_headers(tmp_path):
    path = tmp_path / "water.xlsx"
    output = run("template", "water", str(path))
    assert "已生成“水利局农村供水中断”的导入模板" in output
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["村（社区）", "停水日期", "停水天数", "影响户数", "停水原因"]
    run("template", "medical", str(tmp_path / "medical.csv"))
    assert (
        (tmp_path / "medical.csv")
        .read_text(encoding="utf-8-sig")
        .startswith("身份证号码,姓名,结算日期")
    )


def test_template_of_an_unknown_source_names_the_known_ones(tmp_path):
    with pytest.raises(
        CommandError, match="数据源“nope”不存在；可用：civil-registration、disability"
    ):
        run("template", "nope", str(tmp_path / "x.xlsx"))


def test_import_prints_counts_and_the_first_rejected_rows(tmp_path):
    path = medical_csv(
        tmp_path / "m.csv",
        [
            [f.next_id_number(), "张三", "2026-10-05", "住院", "18000", "向前村"],
            [f.next_id_number(), "李四", "2026-10-05", "牙科", "1", ""],
        ],
    )
    output = run("import", "medical", str(path), "--period", "2026-10")
    batch = FeedBatch.objects.get()
    assert batch.status == BatchStatus.STAGED
    assert (
        f"已入库：批次 #{batch.pk}，医保局医疗费用结算数据，期别 2026-10；读取 2 行，接收 1 行，拒收 1 行"
        in output
    )
    assert "“牙科”不是可选值" in output
    assert "拒收原因：不是可选值 1" in output
    assert batch.rejects_path in output.replace("\n", "")


def test_import_of_a_refused_file_exits_non_zero(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("身份证号码,姓名\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        run("import", "medical", str(path), "--period", "2026-10")
    batch = FeedBatch.objects.get()
    assert str(failed.value).startswith(f"m.csv 未入库（批次 #{batch.pk}）：缺少必需的列：结算日期")


def test_import_twice_is_refused(tmp_path):
    path = medical_csv(
        tmp_path / "m.csv", [[f.next_id_number(), "张三", "2026-10-05", "住院", "1", ""]]
    )
    run("import", "medical", str(path), "--period", "2026-10")
    with pytest.raises(CommandError, match="该文件已于 .* 导入（批次 #"):
        run("import", "medical", str(path), "--period", "2026-10")


def test_import_as_a_user_checks_the_users_rights(tmp_path, department_officer):
    path = medical_csv(
        tmp_path / "m.csv", [[f.next_id_number(), "张三", "2026-10-05", "住院", "1", ""]]
    )
    with pytest.raises(CommandError, match="用户“ghost”不存在"):
        run("import", "medical", str(path), "--period", "2026-10", "--user", "ghost")
    with pytest.raises(CommandError, match="数据源“water”不存在"):
        run(
            "import",
            "water",
            str(path),
            "--period",
            "2026-10",
            "--user",
            department_officer.username,
        )
    run(
        "import", "medical", str(path), "--period", "2026-10", "--user", department_officer.username
    )
    assert FeedBatch.objects.get().actor == department_officer


def test_import_checks_the_file_and_period(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        run("import", "medical", str(tmp_path / "none.csv"), "--period", "2026-10")
    path = medical_csv(tmp_path / "m.csv", [])
    with pytest.raises(CommandError, match="期别“2026/10”格式不对"):
        run("import", "medical", str(path), "--period", "2026/10")


def test_list_shows_sources_and_their_latest_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per source
    path = medical_csv(
        tmp_path / "m.csv", [[f.next_id_number(), "张三", "2026-10-05", "住院", "1", ""]]
    )
    run("import", "medical", str(path), "--period", "2026-10")
    batch = FeedBatch.objects.get()
    output = run("list")
    assert "medical" in output and "water" in output and "水利局" in output
    (line,) = [line for line in output.splitlines() if " medical " in line]
    assert [cell.strip() for cell in line.strip("│ ").split("│")][4:8] == [
        f"#{batch.pk}",
        "2026-10",
        "已入库",
        "1",
    ]
    (water,) = [line for line in output.splitlines() if " water " in line]
    assert "（无）" in water
