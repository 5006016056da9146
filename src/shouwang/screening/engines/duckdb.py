"""DuckDB, embedded: the default engine. Feeds are read straight from their Parquet files; the
registry snapshot is copied in from Arrow, or read where it lies when given as Parquet files.
Sealed free text a query compares is joined in from a dictionary of its clear text, in memory
(``base.opened_feed_columns``)."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa
from sqlglot import exp

from shouwang.screening.engines.base import (
    FeedInput,
    OpenedColumn,
    ParquetTable,
    ScreeningInputs,
    open_result,
    opened_feed_columns,
)


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def connect(
        self,
        inputs: ScreeningInputs,
        opened: Mapping[str, list[OpenedColumn]] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A connection with the snapshot and feed tables; ``opened``: per feed table, the
        sealed columns to show in clear (``base.opened_feed_columns``)."""
        config: dict[str, str | int] = {}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        connection = duckdb.connect(config=config)
        # Every query reads the same feed files twice (totals, then evidence): keep their
        # footers rather than parse them again. Set after connecting: the setting belongs to
        # the parquet extension, which ``config`` cannot load first.
        connection.sql("SET parquet_metadata_cache = true")
        for name, table in (("persons", inputs.persons), ("households", inputs.households)):
            if isinstance(table, ParquetTable):
                # Read where it lies: a province's registry copied in would cost gigabytes.
                connection.read_parquet([str(p) for p in table.paths]).create_view(name)
            else:
                # Copied once into DuckDB's own format (tens of milliseconds for a county):
                # each of the run's joins then reads it faster than it reads Arrow.
                connection.from_arrow(table).create(name)
        opened = opened or {}
        for table, feed in inputs.feeds.items():
            _feed_relation(connection, feed, opened.get(table, [])).create_view(table)
        return connection

    def run(
        self, inputs: ScreeningInputs, queries: Mapping[str, exp.Select]
    ) -> dict[str, pa.Table]:
        connection = self.connect(inputs, opened_feed_columns(inputs.feeds, queries.values()))
        try:
            return {
                key: open_result(connection.sql(query.sql(dialect=self.dialect)).to_arrow_table())
                for key, query in queries.items()
            }
        finally:
            connection.close()


def _feed_relation(
    connection: duckdb.DuckDBPyConnection, feed: FeedInput, opened: list[OpenedColumn]
) -> duckdb.DuckDBPyRelation:
    """The feed's files with exactly the source's columns, ``opened`` ones in clear.

    ``union_by_name`` makes a column NULL where some files lack it, but a column no file has
    (an optional column added to the mapping after every staged batch) would be missing, and
    a query naming it would fail: it is added as a NULL of its type, as Spark reads it.
    A value not in an opened column's dictionary (clear text staged before sealing) stays.
    """
    empty = connection.from_arrow(feed.schema.empty_table())
    if not feed.paths:
        return empty
    relation = connection.read_parquet([str(p) for p in feed.paths], union_by_name=True)
    present = set(relation.columns)
    clear: dict[str, duckdb.Expression] = {}
    for column in opened:
        if column.field not in present:
            continue
        relation = relation.join(
            connection.from_arrow(column.dictionary),
            duckdb.ColumnExpression(column.field) == duckdb.ColumnExpression(column.sealed_column),
            how="left",
        )
        clear[column.field] = duckdb.CoalesceOperator(
            duckdb.ColumnExpression(column.opened_column), duckdb.ColumnExpression(column.field)
        ).alias(column.field)
    return relation.select(
        *[
            clear.get(name, duckdb.ColumnExpression(name))
            if name in present
            else duckdb.ConstantExpression(None).cast(type_).alias(name)
            for name, type_ in zip(empty.columns, empty.types, strict=True)
        ]
    )
