"""Spark: the engine for data beyond one machine (``shouwang[spark]``, ``--engine spark``).

``SHOUWANG_SPARK_MASTER`` picks the cluster: ``local[2]`` runs Spark inside this process's JVM
(tests, one server), ``spark://host:7077`` a cluster. Feeds are read from their staged Parquet
files and the registry snapshot is written as Parquet next to the run (``work_dir``), so on a
cluster both must sit on storage every executor sees.

One SparkSession serves the whole process (starting the JVM takes seconds); each run works in a
``newSession()`` of it, so its temporary views never meet another run's.

Sealed free text a query compares is opened here, in the driver (the data key never reaches an
executor), and sent to the executors as a small broadcast dictionary; the snapshot written for
the run is the service user's alone (0600).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils.translation import gettext as _
from sqlglot import exp

from shouwang.screening.engines.base import (
    HOUSEHOLDS_SCHEMA,
    PERSONS_SCHEMA,
    EngineUnavailable,
    FeedInput,
    OpenedColumn,
    ParquetTable,
    ScreeningInputs,
    open_result,
    opened_feed_columns,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The Arrow types results are returned in, as DuckDB returns them for compiled queries.
_RESULT_TYPES = {
    "subject_key": pa.string(),
    "household_id": pa.int64(),
    "member_id": pa.int64(),
    "person_index": pa.string(),
    "name": pa.string(),
    "feed_village": pa.string(),
    "id_region": pa.string(),
    "value": pa.decimal128(20, 2),
    "threshold": pa.decimal128(20, 2),
    "evidence": pa.list_(pa.int64()),
    "row_count": pa.int64(),
}

_session: SparkSession | None = None
_session_lock = threading.Lock()


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[")


def spark_session(*, master: str | None = None, driver_memory: str = "2g") -> SparkSession:
    """The process's SparkSession, started on first use."""
    global _session
    with _session_lock:
        if _session is not None and _session.sparkContext._jsc is not None:
            return _session
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineUnavailable(
                _("未安装 Spark 组件（pyspark），请安装 shouwang[spark] 后再使用 Spark 引擎")
            ) from exc
        if not _java_available():
            raise EngineUnavailable(_("未找到 Java 运行环境，Spark 引擎需要 Java 17 或更高版本"))
        master = master or settings.SHOUWANG_SPARK_MASTER
        builder = (
            SparkSession.builder.master(master)
            .appName("shouwang-screening")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "Asia/Shanghai")
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
        if _is_local(master):
            # Everything in one JVM on this machine: bind to loopback (read by the JVM at start).
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # A few shuffle partitions suit a few cores; the default 200 costs seconds in
            # task overhead on county-sized data.
            builder = (
                builder.config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
            )
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start or the master is unreachable
            raise EngineUnavailable(
                _("无法启动 Spark（%(master)s）：%(error)s") % {"master": master, "error": exc}
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        _session = session
        return session


def spark_session_stop() -> None:
    """Stop the process's session (tests, shutdown); the next run starts a new one."""
    global _session
    with _session_lock:
        if _session is not None:
            _session.stop()
            _session = None


class SparkEngine:
    name = "spark"
    dialect = "spark"

    def __init__(self, *, master: str | None = None, driver_memory: str = "2g") -> None:
        self.master = master
        self.driver_memory = driver_memory

    def run(
        self, inputs: ScreeningInputs, queries: Mapping[str, exp.Select]
    ) -> dict[str, pa.Table]:
        spark = spark_session(master=self.master, driver_memory=self.driver_memory).newSession()
        views = self._register(spark, inputs, opened_feed_columns(inputs.feeds, queries.values()))
        try:
            return {
                key: open_result(_normalise(spark.sql(query.sql(dialect=self.dialect)).toArrow()))
                for key, query in queries.items()
            }
        finally:
            for view in views:
                spark.catalog.dropTempView(view)

    def _register(
        self,
        spark: SparkSession,
        inputs: ScreeningInputs,
        opened: Mapping[str, list[OpenedColumn]],
    ) -> list[str]:
        tables: dict[str, DataFrame] = {
            "persons": _snapshot_frame(spark, inputs.persons, "persons", inputs.work_dir),
            "households": _snapshot_frame(spark, inputs.households, "households", inputs.work_dir),
        }
        for table, feed in inputs.feeds.items():
            tables[table] = _feed_frame(spark, feed, opened.get(table, []))
        for view, frame in tables.items():
            frame.createOrReplaceTempView(view)
        return list(tables)


def _spark_schema(schema: pa.Schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _snapshot_frame(
    spark: SparkSession, table: pa.Table | ParquetTable, name: str, work_dir: Path | None
) -> DataFrame:
    if isinstance(table, ParquetTable):
        # Already on disk (a province's registry): read where it lies, in the snapshot's types.
        schema = PERSONS_SCHEMA if name == "persons" else HOUSEHOLDS_SCHEMA
        return spark.read.schema(_spark_schema(schema)).parquet(*(str(p) for p in table.paths))
    if work_dir is None:
        return spark.createDataFrame(table)
    path = Path(work_dir) / f"{name}.parquet"
    # Blind indexes and household ids: created for the service user alone before writing.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    pq.write_table(table, path)
    return spark.read.schema(_spark_schema(table.schema)).parquet(str(path))


def _feed_frame(spark: SparkSession, feed: FeedInput, opened: list[OpenedColumn]) -> DataFrame:
    from pyspark.sql import functions as F

    schema = _spark_schema(feed.schema)
    if not feed.paths:
        return spark.createDataFrame([], schema=schema)
    # The source's current schema, as DuckDB's union_by_name: columns a batch lacks are NULL.
    frame = spark.read.schema(schema).parquet(*(str(p) for p in feed.paths))
    for column in opened:
        dictionary = F.broadcast(spark.createDataFrame(column.dictionary))
        frame = frame.join(
            dictionary, frame[column.field] == dictionary[column.sealed_column], "left"
        ).withColumn(
            # A value not in the dictionary (clear text staged before sealing) stays.
            column.field,
            F.coalesce(F.col(column.opened_column), F.col(column.field)),
        )
    return frame.select(*feed.schema.names) if opened else frame


def _normalise(table: pa.Table) -> pa.Table:
    """Spark's Arrow result in the types DuckDB gives (all nullable, list<int64> evidence)."""
    fields = [
        pa.field(f.name, _RESULT_TYPES.get(f.name, f.type), nullable=True) for f in table.schema
    ]
    return table.cast(pa.schema(fields))
