"""Registry import and export: files, validation, the command, the upload page."""

from __future__ import annotations

import csv
import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import CalamineWorkbook

from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.idnumber import check_character
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import choices as c
from shouwang.registry.io import (
    COLUMNS,
    IMPORT_COLUMNS,
    registry_export,
    registry_import,
    registry_template,
)
from shouwang.registry.io.columns import division_short_name
from shouwang.registry.io.services import import_job_execute
from shouwang.registry.models import Household, ImportJob, ImportJobStatus, Member
from tests import factories as f

pytestmark = pytest.mark.django_db

HEADERS = {c.field: c.header for c in COLUMNS}
HOUSEHOLD_FIELDS = [c.field for c in IMPORT_COLUMNS if c.level == "household"]
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def registry_audit_count() -> int:
    return (
        AuditEvent.objects.filter(target_type__in=["registry.household", "registry.member"])
        .exclude(action=AuditAction.EXPORT)
        .count()
    )


def household_values(number: str, village: str = f.VILLAGE_A, **changes: Any) -> dict[str, Any]:
    division = Division.objects.select_related("parent").get(code=village)
    values: dict[str, Any] = {
        "household_number": number,
        "village_id": village,
        "township_name": division.parent.name,
        "village_name": division_short_name(division.name),
        "household_type": c.HouseholdType.POVERTY_EXITED,
        "monitoring_category": "",
        "monitoring_status": c.MonitoringStatus.NOT_MONITORED,
        "identified_month": "",
        "elimination_method": "",
        "eliminated_month": "",
        "risk_type_1": "",
        "risk_type_2": "",
        "risk_type_3": "",
        "risk_type_4": "",
        "risk_type_5": "",
        "phone": "13900001111",
        "income_year": 2025,
        "wage_income": Decimal("24000.00"),
        "operating_income": Decimal("3000.50"),
        "property_income": Decimal("0"),
        "transfer_income": Decimal("1200"),
        "productive_expenses": Decimal("800"),
        "per_capita_net_income": None,
        "compliant_out_of_pocket": Decimal("0"),
        "housing_secure": True,
        "drinking_water_secure": True,
        "relocated": False,
        "relocation_site": "",
        "relocation_mode": "",
        "grid_member": "",
    }
    values.update(changes)
    return values


def member_values(
    id_number: str, relation: str = c.Relation.HEAD, **changes: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "王䶮",
        "id_number": id_number,
        "sex": None,
        "birth_date": None,
        "relation": relation,
        "ethnicity": c.Ethnicity.TUJIA,
        "education": c.Education.JUNIOR,
        "school_status": c.SchoolStatus.NOT_IN_SCHOOL,
        "health_status": c.HealthStatus.HEALTHY,
        "disability_grade": "",
        "disability_type": "",
        "labour_skill": c.LabourSkill.ORDINARY,
        "employment_status": c.EmploymentStatus.OUTSIDE_PROVINCE,
        "months_employed": 10,
        "has_basic_medical_insurance": True,
        "has_critical_illness_insurance": True,
        "has_pension_insurance": False,
        "social_assistance": c.SocialAssistance.NONE,
    }
    values.update(changes)
    return values


def row_cells(household: dict[str, Any], member: dict[str, Any]) -> dict[str, str]:
    """One file row as header → text, in the layout's own formatting."""
    values = {**household, **member}
    return {col.header: col.converter.to_text(values[col.field]) for col in IMPORT_COLUMNS}


def sample_rows() -> list[dict[str, str]]:
    """Two households of 向前村 and one monitored household of 火炉社区; 5 members."""
    ids = [f.next_id_number(birth=dt.date(1970 + i, 3, 9), male=i % 2 == 0) for i in range(5)]
    first = household_values("5001561042000001")
    second = household_values(
        "5001561042000002",
        relocated=True,
        relocation_site="向前村安置点",
        relocation_mode=c.RelocationMode.CENTRALISED,
    )
    third = household_values(
        "5001561040010001",
        f.VILLAGE_B,
        household_type=c.HouseholdType.MONITORED,
        monitoring_category=c.MonitoringCategory.SUDDEN_HARDSHIP,
        monitoring_status=c.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202403",
        risk_type_1=c.RiskType.ILLNESS,
        risk_type_2=c.RiskType.UNSTABLE_EMPLOYMENT,
    )
    return [
        row_cells(first, member_values(ids[0])),
        row_cells(first, member_values(ids[1], c.Relation.SPOUSE, name="李梅")),
        row_cells(
            second,
            member_values(
                ids[2],
                name="张强",
                health_status=c.HealthStatus.DISABLED,
                disability_grade=c.DisabilityGrade.GRADE_2,
                disability_type=c.DisabilityType.PHYSICAL,
            ),
        ),
        row_cells(third, member_values(ids[3], name="刘芳")),
        row_cells(
            third,
            member_values(
                ids[4],
                c.Relation.SON,
                name="刘小明",
                education=c.Education.PRIMARY,
                school_status=c.SchoolStatus.PRIMARY,
                labour_skill=c.LabourSkill.NONE,
                employment_status=c.EmploymentStatus.NOT_WORKING,
                months_employed=0,
            ),
        ),
    ]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    encoding: str = "utf-8-sig",
    headers: list[str] | None = None,
) -> Path:
    headers = headers or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([row.get(h, "") for h in headers] for row in rows)
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], *, numbers_as_numbers: bool = False) -> Path:
    """Write rows with XlsxWriter; ``numbers_as_numbers`` writes ID cells the way Excel damages them."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": numbers_as_numbers})
    sheet = book.add_worksheet()
    headers = list(rows[0])
    sheet.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for col, header in enumerate(headers):
            value = row[header]
            if isinstance(value, float):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    book.close()
    return path


# -- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_full_export_imports_back_with_no_change(tmp_path, district_admin, suffix):
    f.make_household(f.VILLAGE_A, members=3)
    f.make_household(
        f.VILLAGE_B,
        members=2,
        household_type=c.HouseholdType.MONITORED,
        monitoring_category=c.MonitoringCategory.MARGINAL,
        monitoring_status=c.MonitoringStatus.RISK_ELIMINATED,
        identified_month="202301",
        eliminated_month="202406",
        elimination_method=c.EliminationMethod.ASSISTED,
        risk_type_1=c.RiskType.HOUSING,
        productive_expenses=Decimal("1234.56"),
    )
    f.make_household(
        f.VILLAGE_OTHER_TOWNSHIP,
        members=1,
        relocated=True,
        relocation_site="城区安置点",
        relocation_mode=c.RelocationMode.DISPERSED,
        grid_member=district_admin,
    )
    path = tmp_path / f"export{suffix}"
    count = registry_export(actor=district_admin, path=path, full_id_numbers=True)
    assert count == Member.objects.count() == 6
    audits = registry_audit_count()

    report = registry_import(actor=district_admin, path=path)

    assert report.ok, report.errors
    assert (report.households, report.members) == (3, 6)
    result = report.result
    assert (result.households_unchanged, result.members_unchanged) == (3, 6)
    assert not result.changed
    assert registry_audit_count() == audits


def test_import_creates_the_records_and_reimport_changes_nothing(
    tmp_path, village_cadre, township_staff
):
    path = write_csv(tmp_path / "registry.csv", sample_rows())

    first = registry_import(actor=township_staff, path=path)

    assert first.ok, first.errors
    assert (first.result.households_created, first.result.members_created) == (3, 5)
    household = Household.objects.get(household_number="5001561040010001")
    assert household.village_id == f.VILLAGE_B
    assert household.risk_types == [c.RiskType.ILLNESS, c.RiskType.UNSTABLE_EMPLOYMENT]
    assert household.member_count == 2 and household.head_name == "刘芳"
    # (24000 + 3000.50 + 0 + 1200 - 800) / 2
    assert household.per_capita_net_income == Decimal("13700.25")
    disabled = Member.objects.get(name="张强")
    assert (disabled.health_status, disabled.disability_grade) == (c.HealthStatus.DISABLED, "2")
    assert Member.objects.get(name="王䶮").ethnicity == c.Ethnicity.TUJIA
    audits = registry_audit_count()
    assert audits == 8

    again = registry_import(actor=township_staff, path=path)

    assert again.ok and not again.result.changed
    assert (again.result.households_unchanged, again.result.members_unchanged) == (3, 5)
    assert registry_audit_count() == audits
    jobs = ImportJob.objects.order_by("id")
    assert [j.status for j in jobs] == [ImportJobStatus.SUCCEEDED, ImportJobStatus.SUCCEEDED]
    assert jobs[0].file_sha256 == jobs[1].file_sha256 and jobs[1].rows_total == 5
    imports = AuditEvent.objects.filter(action=AuditAction.IMPORT, target_type="registry.importjob")
    assert imports.count() == 2
    assert imports.filter(extra__members_unchanged=5).count() == 1


def test_changed_row_is_updated_and_audited(tmp_path, township_staff):
    rows = sample_rows()
    registry_import(actor=township_staff, path=write_csv(tmp_path / "a.csv", rows))
    rows[2][HEADERS["wage_income"]] = "36000"
    rows[2][HEADERS["education"]] = "高中"

    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "b.csv", rows))

    assert report.ok
    assert (report.result.households_updated, report.result.members_updated) == (1, 1)
    assert Member.objects.get(name="张强").education == c.Education.SENIOR
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, target_type="registry.household")
    assert (event.before["wage_income"], event.after["wage_income"]) == ("24000.00", "36000.00")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, township_staff, encoding):
    path = write_csv(tmp_path / "registry.csv", sample_rows(), encoding=encoding)
    report = registry_import(actor=township_staff, path=path)
    assert report.ok, report.errors
    # 䶮 (CJK extension A) takes four bytes in GB18030.
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(
        ["王䶮", "李梅", "张强", "刘芳", "刘小明"]
    )


def test_gb18030_fixture_with_title_row_and_extra_columns(township_staff):
    """A department-style file: a title line above the header, GB18030, columns in another order
    and columns we do not know."""
    path = DATA_DIR / "registry_gb18030_title_row.csv"
    assert b"\xef\xbb\xbf" not in path.read_bytes()[:3]
    report = registry_import(actor=township_staff, path=path, dry_run=True)
    assert report.ok, report.errors
    assert (report.households, report.members) == (2, 3)
    assert Household.objects.count() == 0  # dry run


def test_fixture_file_errors_use_excel_row_numbers(township_staff):
    report = registry_import(actor=township_staff, path=DATA_DIR / "registry_excel_damaged.xlsx")
    by_row = {(e["row"], e["column"]): e["message"] for e in report.errors}
    assert set(by_row) == {(2, "证件号码"), (3, "证件号码"), (4, "证件号码")}
    assert all("文本" in message for message in by_row.values())
    assert "科学计数法" in by_row[(3, "证件号码")]
    assert "000" in by_row[(4, "证件号码")]
    assert Household.objects.count() == 0


# -- Excel damage, bad rows ------------------------------------------------------------------------


def _excel_rounded(id_number: str) -> str:
    """What Excel keeps of an 18-digit number typed into a number cell: 15 digits and "000".

    One number in eleven rounds to a string whose check digit happens to fit; the sequence
    digits are moved until it does not, so the row is refused whatever IDs earlier tests used.
    """
    first14 = id_number[:14]
    for last in "0123456789":
        rounded = f"{first14}{last}000"
        if check_character(rounded[:17]) != rounded[17]:
            return rounded
    raise AssertionError("no rounding of the ID fails its check digit")


def test_excel_mangled_id_numbers_are_explained(tmp_path, township_staff):
    rows: list[dict[str, Any]] = sample_rows()
    good_id = rows[0][HEADERS["id_number"]]
    rows[0][HEADERS["id_number"]] = float(good_id)  # a number cell: digits lost
    rows[1][HEADERS["id_number"]] = "5.00156E+17"
    rows[3][HEADERS["id_number"]] = _excel_rounded(rows[3][HEADERS["id_number"]])
    path = write_xlsx(tmp_path / "damaged.xlsx", rows)

    report = registry_import(actor=township_staff, path=path)

    id_errors = {e["row"]: e["message"] for e in report.errors if e["column"] == "证件号码"}
    assert set(id_errors) == {2, 3, 5}
    assert all("文本" in message for message in id_errors.values())
    assert "科学计数法" in id_errors[3]
    assert report.result is None and Member.objects.count() == 0
    assert ImportJob.objects.get().status == ImportJobStatus.REJECTED


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(tmp_path, township_staff):
    rows = sample_rows()
    rows[1][HEADERS["education"]] = "博士"
    rows[3][HEADERS["identified_month"]] = rows[4][HEADERS["identified_month"]] = "2024年13月"
    rows[4][HEADERS["months_employed"]] = "3"  # not working, but months given: the model's clean()
    rows[4][HEADERS["has_pension_insurance"]] = "有"
    path = write_csv(tmp_path / "bad.csv", rows)

    report = registry_import(actor=township_staff, path=path)

    got = [(e["row"], e["column"]) for e in report.errors]
    assert got == [(3, "文化程度"), (5, "识别监测时间"), (6, "参加城乡居民基本养老保险")]
    assert "可选" in report.errors[0]["message"]
    # The member with a bad cell is not judged by cross-field rules on defaults; fixed, it is:
    rows[4][HEADERS["has_pension_insurance"]] = "否"
    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "bad2.csv", rows))
    assert (6, "务工时间（月）", "未务工人员的务工时间应为 0") in [
        (e["row"], e["column"], e["message"]) for e in report.errors
    ]
    assert Household.objects.count() == Member.objects.count() == 0
    job = ImportJob.objects.order_by("-id").first()
    assert job.status == ImportJobStatus.REJECTED and job.errors == report.errors


def test_household_consistency_heads_and_duplicates(tmp_path, township_staff):
    rows = sample_rows()
    rows[1][HEADERS["wage_income"]] = "1"  # differs from the household's first row
    rows[1][HEADERS["relation"]] = "户主"  # a second head
    rows[2][HEADERS["relation"]] = "配偶"  # household 2 has no head now
    rows[4][HEADERS["id_number"]] = rows[3][HEADERS["id_number"]]  # same person twice
    path = write_csv(tmp_path / "bad.csv", rows)

    report = registry_import(actor=township_staff, path=path)

    messages = {(e["row"], e["column"]): e["message"] for e in report.errors}
    assert "第 2 行" in messages[(3, "工资性收入（元）")]
    assert "本户已有户主（第 2 行）" == messages[(3, "与户主关系")]
    assert "没有户主" in messages[(4, "与户主关系")]
    assert "与第 5 行重复" in messages[(6, "证件号码")]


def test_existing_head_not_in_file_is_a_clash(tmp_path, township_staff):
    rows = sample_rows()[:2]
    registry_import(actor=township_staff, path=write_csv(tmp_path / "a.csv", rows))
    new_head = f.next_id_number(birth=dt.date(1990, 1, 1))
    rows = [row_cells(household_values("5001561042000001"), member_values(new_head, name="新户主"))]

    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "b.csv", rows))

    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "与户主关系")]
    assert "已有户主" in report.errors[0]["message"]


def test_heads_can_swap_within_a_household(tmp_path, township_staff):
    rows = sample_rows()
    rows[0][HEADERS["relation"]], rows[1][HEADERS["relation"]] = "配偶", "户主"
    registry_import(actor=township_staff, path=write_csv(tmp_path / "a.csv", rows))
    rows[0][HEADERS["relation"]], rows[1][HEADERS["relation"]] = "户主", "配偶"

    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "b.csv", rows))

    assert report.ok and report.result.members_updated == 2
    assert Household.objects.get(household_number="5001561042000001").head_name == "王䶮"


def test_a_member_moved_to_another_household_leaves_the_old_one_counted_right(
    tmp_path, township_staff
):
    rows = sample_rows()
    registry_import(actor=township_staff, path=write_csv(tmp_path / "a.csv", rows))
    spouse = dict(rows[1])
    spouse.update({HEADERS[name]: rows[2][HEADERS[name]] for name in HOUSEHOLD_FIELDS})

    report = registry_import(
        actor=township_staff, path=write_csv(tmp_path / "b.csv", [rows[2], spouse])
    )

    assert report.ok and report.result.members_updated == 1
    old, new = Household.objects.filter(
        household_number__in=["5001561042000001", "5001561042000002"]
    ).order_by("household_number")
    assert (old.member_count, new.member_count) == (1, 2)


def test_village_code_and_names_are_checked(tmp_path, township_staff):
    rows = sample_rows()
    rows[0][HEADERS["village_id"]] = "500156104999"  # no such village
    rows[1][HEADERS["village_id"]] = "500156104999"
    rows[2][HEADERS["village_name"]] = "不存在村"
    rows[3][HEADERS["grid_member"]] = "nobody"
    rows[4][HEADERS["grid_member"]] = "nobody"
    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "bad.csv", rows))
    got = {(e["row"], e["column"]) for e in report.errors}
    assert got == {(2, "行政区划代码"), (4, "行政村（社区）"), (5, "网格员")}


def test_missing_columns_are_one_error_and_extra_columns_are_ignored(tmp_path, township_staff):
    rows = sample_rows()
    headers = [h for h in rows[0] if h not in ("证件号码", "收入年度")] + ["备注"]
    report = registry_import(
        actor=township_staff, path=write_csv(tmp_path / "a.csv", rows, headers=headers)
    )
    assert len(report.errors) == 1
    assert report.errors[0]["row"] == 1
    assert "收入年度" in report.errors[0]["message"] and "证件号码" in report.errors[0]["message"]


def test_unreadable_and_empty_files_are_reported(tmp_path, township_staff):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    report = registry_import(actor=township_staff, path=broken)
    assert len(report.errors) == 1 and "Excel" in report.errors[0]["message"]
    header_only = tmp_path / "header.csv"
    registry_template(path=header_only)
    report = registry_import(actor=township_staff, path=header_only)
    assert [e["message"] for e in report.errors] == ["文件中没有数据行"]


def test_validation_reads_the_database_a_fixed_number_of_times(
    tmp_path, township_staff, django_assert_max_num_queries
):
    small = write_csv(tmp_path / "small.csv", sample_rows()[:2])
    rows = []
    for n in range(40):
        hh = household_values(f"H{n:04d}")
        rows.append(
            row_cells(
                hh,
                member_values(f.next_id_number(birth=dt.date(1960, 1, 1) + dt.timedelta(days=n))),
            )
        )
        rows.append(
            row_cells(
                hh,
                member_values(
                    f.next_id_number(birth=dt.date(1990, 1, 1) + dt.timedelta(days=n)),
                    c.Relation.SPOUSE,
                ),
            )
        )
    large = write_csv(tmp_path / "large.csv", rows)
    with CaptureQueriesContext(connection) as small_queries:
        assert registry_import(actor=township_staff, path=small, dry_run=True).ok
    with CaptureQueriesContext(connection) as large_queries:
        assert registry_import(actor=township_staff, path=large, dry_run=True).ok
    assert len(large_queries) <= len(small_queries)


# -- jurisdiction, permissions, masking --------------------------------------------------------------


def test_user_option_narrows_the_import_to_their_area(tmp_path, village_cadre):
    path = write_csv(tmp_path / "registry.csv", sample_rows())
    with pytest.raises(CommandError, match="未导入"):
        call_command(
            "registry",
            "import",
            str(path),
            "--user",
            village_cadre.username,
            stdout=_Sink(),
            stderr=_Sink(),
        )
    job = ImportJob.objects.get()
    assert job.actor == village_cadre
    assert [(e["row"], e["column"]) for e in job.errors] == [(5, "行政区划代码")]
    assert "不在您的管辖范围内" in job.errors[0]["message"]
    assert Household.objects.count() == 0

    out = _Sink()
    call_command("registry", "import", str(path), stdout=out, stderr=_Sink())
    assert "新增 3 户、5 人" in out.text
    assert Household.objects.count() == 3


def test_records_registered_outside_the_area_are_not_taken_over(tmp_path, village_cadre):
    elsewhere = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    other_id = f.next_id_number(birth=dt.date(2001, 2, 3))
    f.make_member(elsewhere, id_number=other_id, relation=c.Relation.SON, name="外村人")
    rows = [
        row_cells(household_values(elsewhere.household_number), member_values(f.next_id_number())),
        row_cells(household_values("NEW1"), member_values(f.next_id_number())),
        row_cells(household_values("NEW1"), member_values(other_id, c.Relation.SON)),
    ]
    report = registry_import(actor=village_cadre, path=write_csv(tmp_path / "a.csv", rows))
    # Row 2 is refused twice: the household is elsewhere, and its registered head is not in the file.
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (2, "户编号"),
        (2, "与户主关系"),
        (4, "证件号码"),
    ]
    assert report.errors[2]["message"] == "该证件号码已登记在您管辖范围以外的农户中"


def test_non_editors_cannot_import(tmp_path, department_officer):
    path = write_csv(tmp_path / "registry.csv", sample_rows())
    with pytest.raises(PermissionDenied):
        registry_import(actor=department_officer, path=path)


def test_full_id_export_needs_permission_and_every_export_is_audited(
    tmp_path, village_cadre, district_admin
):
    f.make_household(f.VILLAGE_A, members=2)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    with pytest.raises(PermissionDenied):
        registry_export(actor=village_cadre, path=tmp_path / "full.xlsx", full_id_numbers=True)
    assert not (tmp_path / "full.xlsx").exists()
    with pytest.raises(CommandError, match="权限"):
        call_command(
            "registry",
            "export",
            str(tmp_path / "full.csv"),
            "--user",
            village_cadre.username,
            "--full-id-numbers",
            stdout=_Sink(),
        )

    masked = registry_export(actor=village_cadre, path=tmp_path / "masked.csv")
    full = registry_export(
        actor=district_admin, path=tmp_path / "full.csv", full_id_numbers=True, encoding="gb18030"
    )

    assert (masked, full) == (2, 3)
    events = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("id")
    assert [
        (e.actor, e.extra["full_id_numbers"], e.extra["members"], e.extra["households"])
        for e in events
    ] == [
        (village_cadre, False, 2, 1),
        (district_admin, True, 3, 2),
    ]
    assert events[1].extra["file"] == "full.csv"
    masked_text = (tmp_path / "masked.csv").read_text(encoding="utf-8-sig")
    assert "********" in masked_text and "139****5678" in masked_text
    assert "13912345678" in (tmp_path / "full.csv").read_text(encoding="gb18030")


def test_masked_export_cannot_be_imported(tmp_path, district_admin):
    f.make_household(f.VILLAGE_A, members=2)
    path = tmp_path / "masked.xlsx"
    registry_export(actor=district_admin, path=path)
    report = registry_import(actor=district_admin, path=path)
    assert len(report.errors) == 1
    assert "证件号码已脱敏" in report.errors[0]["message"]
    assert not report.result


def test_one_masked_id_among_full_ones_is_reported_on_its_row(tmp_path, township_staff):
    rows = sample_rows()
    rows[2][HEADERS["id_number"]] = "500156********1234"
    report = registry_import(actor=township_staff, path=write_csv(tmp_path / "a.csv", rows))
    assert [(e["row"], e["column"]) for e in report.errors] == [(4, "证件号码")]
    assert "已脱敏" in report.errors[0]["message"]


def test_export_xlsx_writes_ids_and_codes_as_text(tmp_path, district_admin):
    f.make_household(f.VILLAGE_A, members=1)
    path = tmp_path / "full.xlsx"
    registry_export(actor=district_admin, path=path, full_id_numbers=True)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    header, row = list(sheet.iter_rows())
    cells = dict(zip(header, row, strict=True))
    assert cells["证件号码"] == Member.objects.get().id_number_masked[:6] + cells["证件号码"][6:]
    assert isinstance(cells["证件号码"], str) and len(cells["证件号码"]) == 18
    assert cells["行政区划代码"] == f.VILLAGE_A and cells["户编号"].startswith("T")
    assert cells["乡镇（街道）"] == "火炉镇" and cells["行政村（社区）"] == "向前村"
    assert cells["性别"] in ("男", "女") and cells["人均纯收入（元）"] == 37000.0


# -- template and command ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_template_is_exactly_the_header_row(tmp_path, suffix):
    path = tmp_path / f"template{suffix}"
    call_command("registry", "template", str(path), stdout=_Sink())
    if suffix == ".xlsx":
        rows = [
            list(r) for r in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
        ]
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    assert rows == [[c.header for c in IMPORT_COLUMNS]]


def test_command_prints_every_bad_row_and_fails(tmp_path, township_staff):
    rows = sample_rows()
    rows[0][HEADERS["household_type"]] = "贫困户"
    rows[3][HEADERS["phone"]] = rows[4][HEADERS["phone"]] = "12"
    out = _Sink()
    with pytest.raises(CommandError, match="2 处错误"):
        call_command(
            "registry",
            "import",
            str(write_csv(tmp_path / "a.csv", rows)),
            "--dry-run",
            stdout=out,
            stderr=_Sink(),
        )
    assert "贫困户" in out.text and "户类型" in out.text and "联系电话" in out.text


def test_command_dry_run_writes_nothing(tmp_path, township_staff):
    out = _Sink()
    call_command(
        "registry",
        "import",
        str(write_csv(tmp_path / "a.csv", sample_rows())),
        "--dry-run",
        "--user",
        township_staff.username,
        stdout=out,
        stderr=_Sink(),
    )
    assert "校验通过" in out.text and "3 户 5 人" in out.text
    assert Household.objects.count() == 0
    assert ImportJob.objects.get().summary["dry_run"] is True


class _Sink:
    """A text stream for call_command that keeps what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def text(self) -> str:
        return "".join(self.parts)


# -- the upload page -----------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _upload(rows: list[dict[str, str]], name: str = "registry.csv") -> SimpleUploadedFile:
    text_rows = [list(rows[0])] + [list(r.values()) for r in rows]
    lines = []
    for row in text_rows:
        lines.append(",".join(f'"{cell}"' for cell in row))
    return SimpleUploadedFile(
        name, ("\n".join(lines) + "\n").encode("gb18030"), content_type="text/csv"
    )


def test_upload_page_runs_the_job_and_shows_the_result(
    client, township_staff, media_root, django_capture_on_commit_callbacks
):
    client.force_login(township_staff)
    page = client.get(reverse("registry_io:import"))
    assert page.status_code == 200
    assert reverse("registry_io:template") in page.content.decode()
    assert "含完整证件号码" not in page.content.decode()  # township staff may not reveal

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("registry_io:import"), {"file": _upload(sample_rows())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("registry_io:job", args=[job.pk])
    assert len(callbacks) == 1
    stored = Path(media_root) / "imports" / f"{job.pk}-{job.file_sha256}.csv"
    assert stored.exists()
    # The plaintext upload is the service user's alone while it waits.
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.parent.stat().st_mode & 0o777 == 0o700

    polling = client.get(response.url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in polling.content.decode()
    assert "<html" not in polling.content.decode()

    import_job_execute(job.pk)  # what the thread runs, here in the test's transaction
    assert not stored.exists()  # deleted once processed; the job keeps its SHA-256

    done = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done
    assert "导入完成" in done and "3 户 5 人" in done
    assert Household.objects.count() == 3
    listing = client.get(reverse("registry_io:import")).content.decode()
    assert "registry.csv" in listing and "导入成功" in listing


@pytest.mark.parametrize("dry_run", [False, True])
def test_rejected_and_dry_run_uploads_leave_no_file(
    client, township_staff, media_root, django_capture_on_commit_callbacks, dry_run
):
    rows = sample_rows()
    if not dry_run:
        rows[1][HEADERS["ethnicity"]] = "火星族"  # rejected
    client.force_login(township_staff)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            reverse("registry_io:import"),
            {"file": _upload(rows), **({"dry_run": "on"} if dry_run else {})},
        )
    job = ImportJob.objects.get()
    import_job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == ("succeeded" if dry_run else "rejected")
    assert job.file_sha256 and job.rows_total == 5  # five member rows, three households
    assert [p for p in (Path(media_root) / "imports").iterdir()] == []


def test_upload_page_lists_every_bad_row(client, township_staff, media_root):
    rows = sample_rows()
    rows[1][HEADERS["ethnicity"]] = "火星族"
    rows[2][HEADERS["income_year"]] = "去年"
    client.force_login(township_staff)
    client.post(reverse("registry_io:import"), {"file": _upload(rows), "dry_run": "on"})
    job = ImportJob.objects.get()
    assert job.dry_run
    import_job_execute(job.pk)
    page = client.get(reverse("registry_io:job", args=[job.pk])).content.decode()
    assert "火星族" in page and "去年" in page and "未导入任何数据" in page
    errors_csv = client.get(reverse("registry_io:job_errors", args=[job.pk]))
    lines = errors_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "行,列,原因" and len(lines) == 3 and lines[1].startswith("3,民族,")


def test_jobs_of_others_are_not_found_and_non_editors_are_refused(
    client, township_staff, village_cadre, department_officer, media_root
):
    client.force_login(township_staff)
    client.post(reverse("registry_io:import"), {"file": _upload(sample_rows())})
    job = ImportJob.objects.get()
    client.force_login(village_cadre)
    assert client.get(reverse("registry_io:job", args=[job.pk])).status_code == 404
    assert "registry.csv" not in client.get(reverse("registry_io:import")).content.decode()
    client.force_login(department_officer)
    assert client.get(reverse("registry_io:import")).status_code == 403
    client.logout()
    assert client.get(reverse("registry_io:import")).status_code == 302


def test_upload_refuses_other_file_types(client, township_staff, media_root):
    client.force_login(township_staff)
    response = client.post(
        reverse("registry_io:import"),
        {"file": SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")},
    )
    assert response.status_code == 200 and ImportJob.objects.count() == 0
    assert ".xlsx" in response.content.decode()


def test_export_and_template_downloads(client, township_staff, district_admin, media_root):
    f.make_household(f.VILLAGE_A, members=2)
    client.force_login(township_staff)
    template = client.get(reverse("registry_io:template"))
    assert template.status_code == 200 and template["Content-Disposition"].startswith("attachment")
    refused = client.post(reverse("registry_io:export"), {"format": "csv", "full_id_numbers": "on"})
    assert refused.status_code == 403
    masked = client.post(reverse("registry_io:export"), {"format": "csv"})
    text = b"".join(masked.streaming_content).decode("utf-8-sig")
    assert "********" in text and len(text.strip().splitlines()) == 3

    client.force_login(district_admin)
    assert "含完整证件号码" in client.get(reverse("registry_io:import")).content.decode()
    full = client.post(reverse("registry_io:export"), {"format": "xlsx", "full_id_numbers": "on"})
    assert full.status_code == 200 and b"".join(full.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 2


@pytest.mark.django_db(transaction=True)
def test_upload_runs_in_a_background_thread_after_commit(client, committed_divisions, media_root):
    user = f.make_user("thread-staff", "township_staff", [f.TOWNSHIP_HUOLU])
    client.force_login(user)

    response = client.post(reverse("registry_io:import"), {"file": _upload(sample_rows())})

    # Join before touching the database: the in-memory test SQLite shares one cache between
    # connections, where a concurrent read makes the thread's write fail at once.
    for thread in [t for t in threading.enumerate() if t.name.startswith("registry-import-")]:
        thread.join(timeout=60)
        assert not thread.is_alive()
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.SUCCEEDED, job.errors
    assert job.rows_done == job.rows_total == 5
    assert Household.objects.count() == 3
    assert client.get(response.url).status_code == 200


def test_jobs_cut_off_by_a_server_stop_are_marked_failed(township_staff):
    from shouwang.registry.io.services import import_jobs_fail_interrupted
    from shouwang.registry.models import ImportJob, ImportJobStatus

    running = ImportJob.objects.create(
        actor=township_staff,
        file_name="a.xlsx",
        file_sha256="a" * 64,
        status=ImportJobStatus.IMPORTING,
    )
    done = ImportJob.objects.create(
        actor=township_staff,
        file_name="b.xlsx",
        file_sha256="b" * 64,
        status=ImportJobStatus.SUCCEEDED,
    )
    assert import_jobs_fail_interrupted() == 1
    running.refresh_from_db()
    done.refresh_from_db()
    assert running.status == ImportJobStatus.FAILED and running.finished_at is not None
    assert "服务重启" in running.errors[0]["message"]
    assert done.status == ImportJobStatus.SUCCEEDED
