"""The Arrow/Parquet schema of a source's staged rows (shared by the importer and the engines).

What a staged file keeps of a person (decision 0013): the blind index of the ID number, the
ID's address code (where an unregistered person's alert is placed), an age reference date
instead of the birth date, free text sealed, and the columns rules compute on as they are.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from shouwang.screening.choices import ColumnType
from shouwang.screening.feeds.sealing import SEALED_KEY, SEALED_VALUE
from shouwang.screening.sources import ColumnSpec

#: Money and counts are exact decimals in staging, so sums compare exactly on every engine.
DECIMAL_TYPE = pa.decimal128(18, 2)
#: Column types whose values are sealed in the staged file (``feeds.sealing``).
SEALED_TYPES = frozenset({ColumnType.TEXT})

_ARROW_TYPES = {
    ColumnType.TEXT: pa.string(),
    ColumnType.DATE: pa.date32(),
    ColumnType.DECIMAL: DECIMAL_TYPE,
    ColumnType.INTEGER: pa.int64(),
    ColumnType.CHOICE: pa.string(),
    ColumnType.DIVISION: pa.string(),  # the 12-digit village code
}
#: Rules compute a person's whole years at the row's date from ``birth_date``; the importer
#: stores the one date that gives the same age without telling the birth date.
AGE_REFERENCE_MEANING = (
    b"Not the birth date: 1 January of (the year of the row's event date - the person's age "
    b"in whole years on that date), so age at the row's date computes exactly."
)


def age_reference_date(birth: dt.date, on: dt.date) -> dt.date:
    """What the importer stages as ``birth_date``: 1 January of (``on``'s year − the age in
    whole years on ``on``). The compiler's age, ``(yyyymmdd(on) − yyyymmdd(birth)) div
    10000``, is the same from this date as from the birth date."""
    stamp = on.year * 10000 + on.month * 100 + on.day
    age = (stamp - (birth.year * 10000 + birth.month * 100 + birth.day)) // 10000
    return dt.date(min(max(on.year - age, 1), 9999), 1, 1)


def feed_arrow_schema(columns: list[ColumnSpec]) -> pa.Schema:
    """System columns first; the ID column becomes its blind index and what rules need of it."""
    fields = [
        pa.field("batch_id", pa.int64(), nullable=False),
        pa.field("row_number", pa.int64(), nullable=False),
        pa.field("person_index", pa.string()),
        pa.field("birth_date", pa.date32(), metadata={b"shouwang.meaning": AGE_REFERENCE_MEANING}),
        pa.field("id_region", pa.string()),
    ]
    for column in columns:
        if column.type == ColumnType.ID_NUMBER:
            continue  # raw ID numbers are never staged
        metadata = {SEALED_KEY: SEALED_VALUE} if column.type in SEALED_TYPES else None
        fields.append(pa.field(column.field, _ARROW_TYPES[column.type], metadata=metadata))
    return pa.schema(fields)
