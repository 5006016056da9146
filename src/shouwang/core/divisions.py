"""Loading the NBS 2023 statistical division tree (data/divisions, see its README)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record
from shouwang.core.choices import AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import Division, User

DATA_DIR = Path(__file__).parent / "data" / "divisions"


def full_code(code: str) -> str:
    """Pad a 2/4/6/9-digit code to the 12-digit statistical code."""
    return code.ljust(12, "0")


def _rows(name: str) -> Iterator[dict[str, str]]:
    path = DATA_DIR / name
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle)
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(io.StringIO(handle.read()))


@dataclass(frozen=True)
class DivisionLoadResult:
    county: Division
    townships: int
    villages: int
    created: int


@transaction.atomic
def divisions_load_county(*, county_code: str, actor: User | None) -> DivisionLoadResult:
    """Load one county (6-digit code) with its province, city, townships and villages.

    Safe to run again: existing rows are updated in place, nothing is duplicated.
    """
    county_code = county_code.strip()
    if len(county_code) == 12 and county_code.endswith("000000"):
        county_code = county_code[:6]
    if len(county_code) != 6 or not county_code.isdigit():
        raise ApplicationError(_("区县代码应为 6 位数字，例如 500156"))
    county_row = next((r for r in _rows("areas.csv") if r["code"] == county_code), None)
    if county_row is None:
        raise ApplicationError(_("统计用区划代码中没有区县 %(code)s") % {"code": county_code})
    province_row = next(
        r for r in _rows("provinces.csv") if r["code"] == county_row["provinceCode"]
    )
    city_row = next(r for r in _rows("cities.csv") if r["code"] == county_row["cityCode"])

    wanted: list[Division] = [
        Division(
            code=full_code(province_row["code"]),
            name=province_row["name"],
            level=DivisionLevel.PROVINCE,
        ),
        Division(
            code=full_code(city_row["code"]),
            name=city_row["name"],
            level=DivisionLevel.CITY,
            parent_id=full_code(province_row["code"]),
        ),
        Division(
            code=full_code(county_code),
            name=county_row["name"],
            level=DivisionLevel.COUNTY,
            parent_id=full_code(city_row["code"]),
        ),
    ]
    townships = [
        Division(
            code=full_code(r["code"]),
            name=r["name"],
            level=DivisionLevel.TOWNSHIP,
            parent_id=full_code(county_code),
        )
        for r in _rows("streets.csv.gz")
        if r["areaCode"] == county_code
    ]
    villages = [
        Division(
            code=r["code"],
            name=r["name"],
            level=DivisionLevel.VILLAGE,
            parent_id=full_code(r["streetCode"]),
        )
        for r in _rows("villages.csv.gz")
        if r["areaCode"] == county_code
    ]
    wanted += townships + villages
    existing = set(
        Division.objects.filter(code__in=[d.code for d in wanted]).values_list("code", flat=True)
    )
    # Parents first, so foreign keys hold on PostgreSQL's immediate checks too.
    Division.objects.bulk_create([d for d in wanted if d.code not in existing], batch_size=200)
    Division.objects.bulk_update(
        [d for d in wanted if d.code in existing], ["name", "level", "parent"], batch_size=200
    )
    created = len(wanted) - len(existing)
    county = Division.objects.get(code=full_code(county_code))
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        target=county,
        extra={
            "townships": len(townships),
            "villages": len(villages),
            "created": created,
            "source": "NBS 2023",
        },
    )
    return DivisionLoadResult(
        county=county, townships=len(townships), villages=len(villages), created=created
    )
