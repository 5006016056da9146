"""Staging feed rows for tests without the importer: rows written with the real Parquet schema
into a ``FeedBatch`` marked staged, exactly as the importer leaves them."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from shouwang.core.crypto import blind_index
from shouwang.core.idnumber import parse_id_number
from shouwang.screening.choices import BatchStatus
from shouwang.screening.feeds.schema import feed_arrow_schema
from shouwang.screening.models import FeedBatch, FeedSource
from shouwang.screening.sources import parse_columns


def stage_rows(
    source_slug: str, rows: list[dict[str, Any]], *, period: str = "2026-10"
) -> FeedBatch:
    """``rows`` hold the source's fields; ``id_number`` (raw) becomes the blind index."""
    source = FeedSource.objects.get(slug=source_slug)
    columns = parse_columns(source.columns)
    schema = feed_arrow_schema(columns)
    payload = repr((source_slug, period, rows)).encode()
    batch = FeedBatch.objects.create(
        source=source,
        period=period,
        file_name=f"{source_slug}-{period}.csv",
        file_sha256=hashlib.sha256(payload).hexdigest(),
        status=BatchStatus.RUNNING,
    )
    records = []
    for number, row in enumerate(rows, start=2):
        record: dict[str, Any] = {"batch_id": batch.pk, "row_number": number}
        raw_id = row.get("id_number")
        if raw_id:
            parsed = parse_id_number(raw_id)
            record.update(
                person_index=blind_index(parsed.value),
                birth_date=parsed.birth_date,
                id_region=parsed.value[:6],
                sex=parsed.sex,
            )
        for name in schema.names:
            if name in row and name != "id_number":
                value = row[name]
                if isinstance(schema.field(name).type, pa.Decimal128Type) and value is not None:
                    value = Decimal(str(value)).quantize(Decimal("0.01"))
                if isinstance(value, str) and schema.field(name).type == pa.date32():
                    value = dt.date.fromisoformat(value)
                record[name] = value
        records.append(record)
    directory = Path(settings.SHOUWANG_FEEDS_DIR) / source_slug
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{batch.pk}.parquet"
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
    batch.parquet_path = str(path)
    batch.status = BatchStatus.STAGED
    batch.rows_read = batch.rows_accepted = len(rows)
    batch.save()
    return batch
