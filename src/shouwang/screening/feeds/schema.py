"""The Arrow/Parquet schema of a source's staged rows (shared by the importer and the engines)."""

from __future__ import annotations

import pyarrow as pa

from shouwang.screening.choices import ColumnType
from shouwang.screening.sources import ColumnSpec

#: Money and counts are exact decimals in staging, so sums compare exactly on every engine.
DECIMAL_TYPE = pa.decimal128(18, 2)

_ARROW_TYPES = {
    ColumnType.TEXT: pa.string(),
    ColumnType.DATE: pa.date32(),
    ColumnType.DECIMAL: DECIMAL_TYPE,
    ColumnType.INTEGER: pa.int64(),
    ColumnType.CHOICE: pa.string(),
    ColumnType.DIVISION: pa.string(),  # the 12-digit village code
}


def feed_arrow_schema(columns: list[ColumnSpec]) -> pa.Schema:
    """System columns first; the ID column becomes its blind index and what the ID tells."""
    fields = [
        pa.field("batch_id", pa.int64(), nullable=False),
        pa.field("row_number", pa.int64(), nullable=False),
        pa.field("person_index", pa.string()),
        pa.field("birth_date", pa.date32()),
        pa.field("id_region", pa.string()),
        pa.field("sex", pa.string()),
    ]
    for column in columns:
        if column.type == ColumnType.ID_NUMBER:
            continue  # raw ID numbers are never staged
        fields.append(pa.field(column.field, _ARROW_TYPES[column.type]))
    return pa.schema(fields)
