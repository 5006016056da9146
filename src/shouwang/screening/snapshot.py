"""The registry as the screening engines see it: two Arrow tables read in one pass each.

Only what rules need leaves the database: the blind index (never the ID), household ids,
labour capacity, categories and incomes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from django.db import connection

from shouwang.registry.choices import LABOUR_CAPABLE
from shouwang.registry.models import Household, Member
from shouwang.screening.engines.base import HOUSEHOLDS_SCHEMA, PERSONS_SCHEMA

_FETCH = 50_000


@dataclass
class RegistrySnapshot:
    persons: pa.Table
    households: pa.Table


def _columns(sql: str, count: int) -> list[list]:
    """The result's ``count`` columns as lists.

    Filled batch by batch: transposing a list of 500,000 row tuples with ``zip(*rows)``
    costs as much as fetching them.
    """
    columns: list[list] = [[] for _ in range(count)]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(_FETCH):
            for position, column in enumerate(columns):
                column.extend([row[position] for row in batch])
    return columns


def _copied(sql: str, schema: pa.Schema) -> pa.Table:
    """PostgreSQL: the result as CSV through COPY, parsed by Arrow.

    A driver builds a Python object for every value, which costs most of the snapshot;
    COPY sends text that Arrow parses in bulk, straight into the columns' types.
    """
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    if not buffer.tell():
        return schema.empty_table()  # Arrow takes an empty file for a malformed one
    buffer.seek(0)
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=schema.names),
        convert_options=pcsv.ConvertOptions(
            column_types=schema, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def _fetched(sql: str, schema: pa.Schema) -> pa.Table:
    """The result as a table of ``schema``, fetched through the driver (SQLite)."""
    columns = _columns(sql, len(schema))
    arrays = []
    for field, values in zip(schema, columns, strict=True):
        if pa.types.is_boolean(field.type):
            arrays.append(pc.not_equal(pa.array(values, pa.int64()), 0))
        elif pa.types.is_decimal(field.type):
            arrays.append(pa.array([_money(v) for v in values], field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _read(sql: str, schema: pa.Schema) -> pa.Table:
    if connection.vendor == "postgresql":
        return _copied(sql, schema)
    return _fetched(sql, schema)


def registry_snapshot() -> RegistrySnapshot:
    member = Member._meta
    household = Household._meta
    quote = connection.ops.quote_name
    capable = ", ".join(f"'{value}'" for value in sorted(LABOUR_CAPABLE))
    # Fixed SQL over our own tables: no user input reaches it.
    persons = _read(
        f"SELECT {quote('id_number_index')}, {quote('household_id')}, {quote('id')}, "
        f"CASE WHEN {quote('labour_skill')} IN ({capable}) THEN 1 ELSE 0 END "
        f"FROM {quote(member.db_table)}",
        pa.schema(
            [
                ("person_index", pa.string()),
                ("household_id", pa.int64()),
                ("member_id", pa.int64()),
                ("labour_capable", pa.bool_()),
            ]
        ),
    ).cast(PERSONS_SCHEMA)
    rows = _read(
        f"SELECT {quote('id')}, {quote('village_id')}, {quote('household_type')}, "
        f"{quote('monitoring_status')}, {quote('member_count')}, "
        f"{quote('per_capita_net_income')}, {quote('income_year')} "
        f"FROM {quote(household.db_table)}",
        pa.schema(
            [
                ("household_id", pa.int64()),
                ("village_code", pa.string()),
                ("household_type", pa.string()),
                ("monitoring_status", pa.string()),
                ("member_count", pa.int64()),
                ("per_capita_net_income", pa.decimal128(14, 2)),
                ("income_year", pa.int64()),
            ]
        ),
    )
    households = pa.table(
        {
            "household_id": rows["household_id"],
            "village_code": rows["village_code"],
            "household_type": rows["household_type"],
            "monitoring_status": rows["monitoring_status"],
            "labour_count": _labour_counts(persons, rows["household_id"]),
            "member_count": rows["member_count"],
            "per_capita_net_income": rows["per_capita_net_income"],
            "income_year": rows["income_year"],
        }
    ).cast(HOUSEHOLDS_SCHEMA)
    return RegistrySnapshot(persons=persons, households=households)


def _labour_counts(persons: pa.Table, household_ids: pa.ChunkedArray) -> pa.Array:
    """Members able to work, per household of ``household_ids`` (0 when none)."""
    capable = persons.filter(persons["labour_capable"])
    counts = capable.group_by("household_id").aggregate([("member_id", "count")])
    position = pc.index_in(household_ids, value_set=counts["household_id"].combine_chunks())
    return pc.fill_null(pc.take(counts["member_id_count"], position), 0)


_CENT = Decimal("0.01")


def _money(value) -> Decimal | None:
    """SQLite hands decimals back as floats or ints, PostgreSQL as Decimal."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(_CENT)
