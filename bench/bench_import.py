"""Benchmark: import a county-sized registry file (100,000 members, ~30,000 households).

    .venv/bin/python bench/bench_import.py                      # fresh SQLite in a temp dir
    .venv/bin/python bench/bench_import.py --members 20000      # smaller
    .venv/bin/python bench/bench_import.py \\
        --database-url postgres://postgres@127.0.0.1:5432/shouwang_bench_import

Generates an .xlsx in the import layout with XlsxWriter (valid ID numbers, Wulong's villages,
values that pass the models' rules), migrates a fresh database, loads the divisions of 500156,
then times ``registry_import`` and prints rows/s, total seconds, peak RSS and the phases.
The PostgreSQL database is dropped and created again, so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=500156)
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL of a scratch database (name contains 'bench')",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (file and SQLite database)",
    )
    parser.add_argument(
        "--again", action="store_true", help="import the same file a second time (nothing changes)"
    )
    return parser.parse_args()


def _recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: use a scratch name containing 'bench'")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def generate(
    path: Path, *, members: int, villages: list[tuple[str, str, str]], seed: int
) -> tuple[int, int]:
    """Write the file; returns (households, members)."""
    import xlsxwriter

    from shouwang.core.idnumber import make_id_number
    from shouwang.registry import choices as c
    from shouwang.registry.io import COLUMNS

    rng = random.Random(seed)
    used: set[str] = set()

    def id_number(age_from: int, age_to: int, male: bool) -> str:
        while True:
            birth = dt.date(2025, 6, 30) - dt.timedelta(
                days=rng.randint(age_from * 365, age_to * 365)
            )
            value = make_id_number("500156", birth, rng.randrange(0, 999, 2) + (1 if male else 0))
            if value not in used:
                used.add(value)
                return value

    def household(number: str, village: tuple[str, str, str]) -> dict[str, Any]:
        code, township, name = village
        kind = rng.random()
        values: dict[str, Any] = {
            "household_number": number,
            "village_id": code,
            "township_name": township,
            "village_name": name,
            "household_type": c.HouseholdType.POVERTY_EXITED
            if kind < 0.6
            else c.HouseholdType.ORDINARY,
            "monitoring_category": "",
            "monitoring_status": c.MonitoringStatus.NOT_MONITORED,
            "identified_month": "",
            "elimination_method": "",
            "eliminated_month": "",
            **{f"risk_type_{i}": "" for i in range(1, 6)},
            "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
            "income_year": 2024,
            "wage_income": Decimal(rng.randrange(0, 60000)),
            "operating_income": Decimal(rng.randrange(0, 20000)),
            "property_income": Decimal(rng.randrange(0, 2000)),
            "transfer_income": Decimal(rng.randrange(0, 8000)),
            "productive_expenses": Decimal(rng.randrange(0, 5000)),
            "per_capita_net_income": Decimal("0"),
            "compliant_out_of_pocket": Decimal(rng.randrange(0, 3000)),
            "housing_secure": rng.random() > 0.02,
            "drinking_water_secure": rng.random() > 0.02,
            "relocated": False,
            "relocation_site": "",
            "relocation_mode": "",
            "grid_member": "",
        }
        if kind >= 0.9:
            values["household_type"] = c.HouseholdType.MONITORED
            values["monitoring_category"] = rng.choice(
                [c.MonitoringCategory.MARGINAL, c.MonitoringCategory.SUDDEN_HARDSHIP]
            )
        elif kind < 0.06:
            values["monitoring_category"] = c.MonitoringCategory.UNSTABLE_EXITED
        if values["monitoring_category"]:
            values["identified_month"] = f"202{rng.randint(1, 4)}{rng.randint(1, 12):02d}"
            for i, risk in enumerate(
                rng.sample(list(c.RiskType.values), rng.randint(1, 3)), start=1
            ):
                values[f"risk_type_{i}"] = risk
            if rng.random() < 0.5:
                values["monitoring_status"] = c.MonitoringStatus.RISK_ELIMINATED
                values["eliminated_month"] = "202506"
                values["elimination_method"] = rng.choice(list(c.EliminationMethod.values))
            else:
                values["monitoring_status"] = c.MonitoringStatus.RISK_UNRESOLVED
        if rng.random() < 0.05:
            values.update(
                relocated=True,
                relocation_site=f"{name}安置点",
                relocation_mode=rng.choice(list(c.RelocationMode.values)),
            )
        return values

    def member(relation: str, age: tuple[int, int], male: bool) -> dict[str, Any]:
        working = age[1] > 18 and age[0] < 60 and rng.random() < 0.7
        disabled = rng.random() < 0.04
        return {
            "name": rng.choice("冉刘陈王李张黄杨何罗")
            + rng.choice("光秀明芳强丽军华勇艳")
            + rng.choice(["", "英", "荣", "平"]),
            "id_number": id_number(*age, male),
            "sex": None,
            "birth_date": None,
            "relation": relation,
            "ethnicity": rng.choice(
                [c.Ethnicity.HAN, c.Ethnicity.TUJIA, c.Ethnicity.MIAO, c.Ethnicity.GELAO]
            ),
            "education": rng.choice([c.Education.PRIMARY, c.Education.JUNIOR, c.Education.SENIOR]),
            "school_status": c.SchoolStatus.NOT_IN_SCHOOL,
            "health_status": c.HealthStatus.DISABLED
            if disabled
            else rng.choice(
                [c.HealthStatus.HEALTHY] * 8
                + [c.HealthStatus.CHRONIC, c.HealthStatus.SERIOUS_ILLNESS]
            ),
            "disability_grade": rng.choice(list(c.DisabilityGrade.values)) if disabled else "",
            "disability_type": rng.choice(list(c.DisabilityType.values)) if disabled else "",
            "labour_skill": c.LabourSkill.ORDINARY if working else c.LabourSkill.WEAK,
            "employment_status": rng.choice(
                [c.EmploymentStatus.OUTSIDE_PROVINCE, c.EmploymentStatus.INSIDE_COUNTY]
            )
            if working
            else c.EmploymentStatus.NOT_WORKING,
            "months_employed": rng.randint(3, 12) if working else 0,
            "has_basic_medical_insurance": True,
            "has_critical_illness_insurance": True,
            "has_pension_insurance": age[0] >= 16,
            "social_assistance": c.SocialAssistance.NONE,
        }

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    sheet = book.add_worksheet("监测对象信息")
    text = book.add_format({"num_format": "@"})
    for index, column in enumerate(COLUMNS):
        sheet.write_string(0, index, column.header)
    row = 1
    households = 0
    while row <= members:
        households += 1
        village = villages[rng.randrange(len(villages))]
        values = household(f"{village[0]}{households:06d}", village)
        size = min(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6]), members - row + 1)
        people = [member(c.Relation.HEAD, (35, 75), True)]
        if size > 1:
            people.append(member(c.Relation.SPOUSE, (30, 70), False))
        for _ in range(size - len(people)):
            male = rng.random() < 0.5
            people.append(member(c.Relation.SON if male else c.Relation.DAUGHTER, (19, 29), male))
        for person in people:
            merged = {**values, **person}
            for index, column in enumerate(COLUMNS):
                value = column.converter.to_cell(merged[column.field]) if column.importable else ""
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(row, index, value)
                else:
                    sheet.write_string(
                        row, index, value, text if column.converter.text_cell else None
                    )
            row += 1
    book.close()
    return households, row - 1


def main() -> None:
    args = _parse_args()
    work = Path(tempfile.mkdtemp(prefix="shouwang-bench-"))
    os.environ["SHOUWANG_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "shouwang.settings.base"
    if args.database_url:
        _recreate_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from shouwang.core.choices import DivisionLevel
    from shouwang.core.models import Division
    from shouwang.registry.io import registry_import
    from shouwang.registry.io.columns import division_short_name
    from shouwang.registry.io.readers import open_table

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("divisions", "load", "500156", stdout=open(os.devnull, "w"))
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}), ready in {time.perf_counter() - started:.1f} s"
    )

    villages = [
        (d.code, division_short_name(d.parent.name), division_short_name(d.name))
        for d in Division.objects.filter(
            level=DivisionLevel.VILLAGE, code__startswith="500156"
        ).select_related("parent")
    ]
    path = work / f"registry-{args.members}.xlsx"
    started = time.perf_counter()
    # A child process writes the file, so the peak RSS below is the import's alone.
    connection.close()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        households, members = pool.apply(
            generate, (path,), {"members": args.members, "villages": villages, "seed": args.seed}
        )
    print(
        f"generated {members:,} members in {households:,} households ({path.stat().st_size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    rss_before = _rss_mib()
    started = time.perf_counter()
    report = registry_import(actor=None, path=path)
    total = time.perf_counter() - started
    if report.errors:
        for error in report.errors[:20]:
            print(error)
        sys.exit(f"{len(report.errors)} errors")
    result = report.result
    print(
        f"import: {report.rows:,} rows in {total:.1f} s = {report.rows / total:,.0f} rows/s "
        f"(created {result.households_created:,} households, {result.members_created:,} members)"
    )
    print(f"peak RSS: {_rss_mib():,.0f} MiB (before import {rss_before:,.0f} MiB)")
    started = time.perf_counter()
    raw_rows = sum(1 for _ in open_table(path).rows)
    read_seconds = time.perf_counter() - started
    print(
        "phases: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items())
        + f"; validate includes reading the file, which alone takes {read_seconds:.1f} s ({raw_rows:,} rows)"
    )

    if args.again:
        started = time.perf_counter()
        again = registry_import(actor=None, path=path)
        seconds = time.perf_counter() - started
        print(
            f"same file again: {seconds:.1f} s, changed: {again.result.changed}; phases: "
            + ", ".join(f"{name} {s:.1f} s" for name, s in again.timings.items())
        )
    if args.keep:
        print(f"kept {work}")
    else:
        connection.close()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
