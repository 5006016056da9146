"""DuckDB, embedded: the default engine. Feeds are read straight from their Parquet files and
the registry snapshot from Arrow (or from Parquet files), without copying either."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa
from sqlglot import exp

from shouwang.screening.engines.base import ParquetTable, ScreeningInputs


class DuckDBEngine:
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def connect(self, inputs: ScreeningInputs) -> duckdb.DuckDBPyConnection:
        config: dict[str, str | int] = {}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        connection = duckdb.connect(config=config)
        for name, table in (("persons", inputs.persons), ("households", inputs.households)):
            if isinstance(table, ParquetTable):
                connection.read_parquet([str(p) for p in table.paths]).create_view(name)
            else:
                connection.register(name, table)
        for table, feed in inputs.feeds.items():
            if feed.paths:
                relation = connection.read_parquet([str(p) for p in feed.paths], union_by_name=True)
            else:
                relation = connection.from_arrow(feed.schema.empty_table())
            relation.create_view(table)
        return connection

    def run(
        self, inputs: ScreeningInputs, queries: Mapping[str, exp.Select]
    ) -> dict[str, pa.Table]:
        connection = self.connect(inputs)
        try:
            return {
                key: connection.sql(query.sql(dialect=self.dialect)).to_arrow_table()
                for key, query in queries.items()
            }
        finally:
            connection.close()
