"""Alerts for API tests, raised the real way: registry rows from the factories, a department feed
staged as Parquet the way the importer leaves it, then a synchronous screening run."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from shouwang.core.crypto import blind_index
from shouwang.core.idnumber import parse_id_number
from shouwang.registry.models import Household
from shouwang.screening import services
from shouwang.screening.choices import BatchStatus
from shouwang.screening.feeds.schema import feed_arrow_schema
from shouwang.screening.models import Alert, FeedBatch, FeedSource, ScreeningRun
from shouwang.screening.sources import parse_columns
from tests import factories as f

#: A month whose default rules' windows hold the rows below; before "today" in every test run.
PERIOD = "2025-09"
#: The two medical rules that fire on one inpatient stay (12-month household sum, one month max).
MEDICAL_RULES = ("inpatient-out-of-pocket-month", "medical-out-of-pocket-12m")


def stage_rows(source_slug: str, rows: list[dict[str, Any]], *, period: str = PERIOD) -> FeedBatch:
    """A staged batch of ``rows`` (field → value; ``id_number`` raw, turned into its blind index)."""
    source = FeedSource.objects.get(slug=source_slug)
    schema = feed_arrow_schema(parse_columns(source.columns))
    batch = FeedBatch.objects.create(
        source=source,
        period=period,
        file_name=f"{source_slug}-{period}.csv",
        file_sha256=hashlib.sha256(repr((source_slug, period, rows)).encode()).hexdigest(),
        status=BatchStatus.RUNNING,
    )
    records = []
    for row_number, row in enumerate(rows, start=2):  # line 1 of the file is the header
        record: dict[str, Any] = {"batch_id": batch.pk, "row_number": row_number}
        if row.get("id_number"):
            parsed = parse_id_number(row["id_number"])
            record.update(
                person_index=blind_index(parsed.value),
                birth_date=parsed.birth_date,
                id_region=parsed.value[:6],
                sex=parsed.sex,
            )
        record.update({name: value for name, value in row.items() if name != "id_number"})
        records.append(record)
    path = Path(settings.SHOUWANG_FEEDS_DIR) / source_slug / f"{batch.pk}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
    FeedBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.STAGED,
        parquet_path=str(path),
        rows_estimated=len(rows),
        rows_read=len(rows),
        rows_accepted=len(rows),
    )
    batch.refresh_from_db()
    return batch


def inpatient_row(id_number: str, *, name: str, out_of_pocket: int, village: str) -> dict[str, Any]:
    return {
        "id_number": id_number,
        "name": name,
        "settled_on": dt.date(2025, 9, 3),
        "visit_type": "inpatient",
        "total_cost": Decimal(out_of_pocket * 2),
        "reimbursed": Decimal(out_of_pocket),
        "out_of_pocket": Decimal(out_of_pocket),
        "diagnosis": "脑梗死",
        "village": village,
    }


@dataclass
class ScreenedArea:
    run: ScreeningRun
    batch: FeedBatch
    #: household in 向前村 (VILLAGE_A), 火炉社区 (VILLAGE_B), 芋荷村 (another township)
    households: dict[str, Household]
    #: the person in the feed who is in no household, placed in VILLAGE_B by the feed's address
    unregistered_name: str

    def alerts(self, village: str, *, unregistered: bool = False) -> list[Alert]:
        return list(
            Alert.objects.filter(division_id=village, unregistered=unregistered).order_by(
                "rule__slug"
            )
        )


def screen_three_villages() -> ScreenedArea:
    """One inpatient stay in each of three villages' households and one by an unregistered
    person; the two medical rules run, so each household and the stranger get two alerts."""
    households: dict[str, Household] = {}
    rows = []
    for village in (f.VILLAGE_A, f.VILLAGE_B, f.VILLAGE_OTHER_TOWNSHIP):
        household = f.make_household(village, members=1)
        patient_id = f.next_id_number(birth=dt.date(1970, 1, 1))
        f.make_member(household, id_number=patient_id, name="李四", relation="spouse")
        households[village] = household
        rows.append(inpatient_row(patient_id, name="李四", out_of_pocket=18000, village=village))
    stranger = "王五"
    stranger_id = f.next_id_number(birth=dt.date(1966, 6, 6))
    rows.append(inpatient_row(stranger_id, name=stranger, out_of_pocket=40000, village=f.VILLAGE_B))
    batch = stage_rows("medical", rows)
    run = services.screening_run(actor=None, period=PERIOD, rule_slugs=list(MEDICAL_RULES))
    assert run.status == "succeeded", run.message
    return ScreenedArea(run=run, batch=batch, households=households, unregistered_name=stranger)
