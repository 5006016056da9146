"""What a screening engine receives and returns. Engines only execute compiled queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa
from sqlglot import exp

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


def get_engine(name: str) -> ScreeningEngine:
    from django.utils.translation import gettext as _

    if name == "duckdb":
        from shouwang.screening.engines.duckdb import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from shouwang.screening.engines.spark import SparkEngine

        return SparkEngine()
    raise EngineUnavailable(_("未知的计算引擎“%(name)s”") % {"name": name})
