"""The registry as the screening engines see it: two Arrow tables read in one pass each.

Only what rules need leaves the database: the blind index (never the ID), household ids,
labour capacity, categories and incomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
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


def registry_snapshot() -> RegistrySnapshot:
    member = Member._meta
    household = Household._meta
    quote = connection.ops.quote_name
    capable = ", ".join(f"'{value}'" for value in sorted(LABOUR_CAPABLE))
    # Fixed SQL over our own tables: no user input reaches it.
    columns = _columns(
        f"SELECT {quote('id_number_index')}, {quote('household_id')}, {quote('id')}, "
        f"CASE WHEN {quote('labour_skill')} IN ({capable}) THEN 1 ELSE 0 END "
        f"FROM {quote(member.db_table)}",
        4,
    )
    persons = pa.table(
        [
            pa.array(columns[0], pa.string()),
            pa.array(columns[1], pa.int64()),
            pa.array(columns[2], pa.int64()),
            pa.array([bool(v) for v in columns[3]], pa.bool_()),
        ],
        schema=PERSONS_SCHEMA,
    )
    labour = _labour_counts(persons)

    hcols = _columns(
        f"SELECT {quote('id')}, {quote('village_id')}, {quote('household_type')}, "
        f"{quote('monitoring_status')}, {quote('member_count')}, "
        f"{quote('per_capita_net_income')}, {quote('income_year')} "
        f"FROM {quote(household.db_table)}",
        7,
    )
    ids = pa.array(hcols[0], pa.int64())
    labour_by_household = dict(zip(labour[0], labour[1], strict=True))
    households = pa.table(
        [
            ids,
            pa.array(hcols[1], pa.string()),
            pa.array(hcols[2], pa.string()),
            pa.array(hcols[3], pa.string()),
            pa.array([labour_by_household.get(i, 0) for i in hcols[0]], pa.int64()),
            pa.array(hcols[4], pa.int64()),
            pa.array([_money(v) for v in hcols[5]], pa.decimal128(14, 2)),
            pa.array(hcols[6], pa.int64()),
        ],
        schema=HOUSEHOLDS_SCHEMA,
    )
    return RegistrySnapshot(persons=persons, households=households)


def _labour_counts(persons: pa.Table) -> tuple[list[int], list[int]]:
    capable = persons.filter(persons["labour_capable"])
    counts = capable.group_by("household_id").aggregate([("member_id", "count")])
    return counts["household_id"].to_pylist(), counts["member_id_count"].to_pylist()


_CENT = Decimal("0.01")


def _money(value) -> Decimal | None:
    """SQLite hands decimals back as floats or ints, PostgreSQL as Decimal."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(_CENT)
