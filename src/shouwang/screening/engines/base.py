"""What a screening engine receives and returns. Engines only execute compiled queries.

Staged feeds keep free text sealed (``feeds.sealing``). Engines open it in memory, never on
disk, in two places only: a sealed column a query compares (a rule's condition on a text
column) is read through a dictionary of its distinct ciphertexts, decrypted here; and the
person's name a result carries is opened in the (small) result table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from django.utils.translation import gettext as _
from sqlglot import exp

from shouwang.screening.feeds.sealing import (
    SealedValueUnreadable,
    is_sealed,
    open_array,
    open_value,
    sealed_field_names,
)

#: Arrow schemas of the registry snapshot tables the compiler refers to.
PERSONS_SCHEMA = pa.schema(
    [
        pa.field("person_index", pa.string(), nullable=False),
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("member_id", pa.int64(), nullable=False),
        pa.field("labour_capable", pa.bool_(), nullable=False),
    ]
)
HOUSEHOLDS_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("village_code", pa.string(), nullable=False),
        pa.field("household_type", pa.string(), nullable=False),
        pa.field("monitoring_status", pa.string(), nullable=False),
        pa.field("labour_count", pa.int64(), nullable=False),
        pa.field("member_count", pa.int64(), nullable=False),
        pa.field("per_capita_net_income", pa.decimal128(14, 2)),
        pa.field("income_year", pa.int64()),
    ]
)


@dataclass(frozen=True)
class FeedInput:
    """A feed table: the staged Parquet files of its batches (maybe none) and their schema."""

    paths: tuple[Path, ...]
    schema: pa.Schema


@dataclass(frozen=True)
class ParquetTable:
    """A snapshot table already written as Parquet files, read by the engine where it lies.

    For registries too large to pass as Arrow (a province: 20 million persons would hold
    about 2 GB in this process); the files follow ``PERSONS_SCHEMA`` or ``HOUSEHOLDS_SCHEMA``.
    Both engines read them where they lie (for Spark on a cluster, on storage executors see).
    """

    paths: tuple[Path, ...]


@dataclass
class ScreeningInputs:
    persons: pa.Table | ParquetTable
    households: pa.Table | ParquetTable
    #: Table name (``feed_<source>``) → its files.
    feeds: Mapping[str, FeedInput] = field(default_factory=dict)
    #: A private folder engines may write to (e.g. the snapshot as Parquet for a cluster).
    work_dir: Path | None = None


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (package missing, cluster unreachable); message in Chinese."""


class ScreeningEngine(Protocol):
    name: str
    dialect: str

    def run(
        self, inputs: ScreeningInputs, queries: Mapping[str, exp.Select]
    ) -> dict[str, pa.Table]:
        """Execute each query over the inputs; results keyed like ``queries``."""
        ...


#: Result columns that may carry a sealed feed value (``compiler.RESULT_COLUMNS``).
SEALED_RESULT_COLUMNS = ("name",)


@dataclass(frozen=True)
class OpenedColumn:
    """A sealed feed column a query compares: its distinct ciphertexts and their clear text."""

    field: str
    clear_text: Mapping[str, str]

    @property
    def sealed_column(self) -> str:
        return f"__sealed_{self.field}"

    @property
    def opened_column(self) -> str:
        return f"__opened_{self.field}"

    @property
    def dictionary(self) -> pa.Table:
        """One row per ciphertext: ``sealed_column``, ``opened_column``."""
        return pa.table(
            {
                self.sealed_column: pa.array(list(self.clear_text), pa.string()),
                self.opened_column: pa.array(list(self.clear_text.values()), pa.string()),
            }
        )


def _compared_names(queries: Iterable[exp.Expression]) -> set[str]:
    """Column names that appear in a condition (WHERE, HAVING, FILTER, JOIN … ON) of any query."""
    names: set[str] = set()
    for query in queries:
        for clause in query.find_all(exp.Where, exp.Having, exp.Filter):
            names.update(column.name for column in clause.find_all(exp.Column))
        for join in query.find_all(exp.Join):
            on = join.args.get("on")
            if on is not None:
                names.update(column.name for column in on.find_all(exp.Column))
    return names


def _unreadable() -> EngineUnavailable:
    return EngineUnavailable(
        _("暂存的部门数据中有加密字段无法解密：文件被改动过，或数据密钥已更换")
    )


def sealed_clear_text(paths: Iterable[Path], field_name: str) -> dict[str, str]:
    """The distinct ciphertexts of a sealed column across ``paths`` → their clear text; empty
    when the files hold none (clear text staged before sealing, or no value)."""
    sealed: set[str] = set()
    for path in paths:
        if field_name not in pq.read_schema(path).names:
            continue  # staged before the source's mapping had the column
        column = pq.read_table(path, columns=[field_name], read_dictionary=[field_name])
        for chunk in column.column(0).chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            sealed.update(v for v in values.to_pylist() if is_sealed(v))
    try:
        return {value: open_value(value) for value in sorted(sealed)}
    except SealedValueUnreadable:
        raise _unreadable() from None


def opened_feed_columns(
    feeds: Mapping[str, FeedInput], queries: Iterable[exp.Expression]
) -> dict[str, list[OpenedColumn]]:
    """Per feed table, the sealed columns the queries compare, ready to be joined in."""
    compared = _compared_names(queries)
    opened: dict[str, list[OpenedColumn]] = {}
    for table, feed in feeds.items():
        for name in sealed_field_names(feed.schema):
            if name in compared and (clear := sealed_clear_text(feed.paths, name)):
                opened.setdefault(table, []).append(OpenedColumn(field=name, clear_text=clear))
    return opened


def open_result(table: pa.Table) -> pa.Table:
    """A query's result with the sealed values it carries (a person's name) in clear."""
    for name in SEALED_RESULT_COLUMNS:
        position = table.schema.get_field_index(name)
        if position < 0:
            continue
        result_field = table.schema.field(position)
        if not pa.types.is_string(result_field.type):
            continue  # all NULL (a village or registry rule)
        try:
            opened = open_array(table.column(position))
        except SealedValueUnreadable:
            raise _unreadable() from None
        table = table.set_column(position, result_field, opened.cast(result_field.type))
    return table


def get_engine(name: str) -> ScreeningEngine:
    if name == "duckdb":
        from shouwang.screening.engines.duckdb import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from shouwang.screening.engines.spark import SparkEngine

        return SparkEngine()
    raise EngineUnavailable(_("未知的计算引擎“%(name)s”") % {"name": name})
