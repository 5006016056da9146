"""Both engines read a registry snapshot given as Parquet files (a province's registry, too
large to pass as Arrow) and find exactly what they find in the same snapshot as Arrow."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shouwang.screening.engines.base import ParquetTable, ScreeningInputs
from shouwang.screening.engines.duckdb import DuckDBEngine
from tests.screening.rule_cases import CASES, case_inputs
from tests.screening.test_rule_cases import _check, _query

#: One case of each kind of query for Spark (per person, per household, per village, from
#: the registry alone), whose JVM makes every case cost about a second.
SPARK_CASES = tuple(
    next(c for c in CASES if c.spec["feed"] and c.spec["per"] == per)
    for per in ("person", "household", "village")
) + (next(c for c in CASES if c.spec["feed"] is None),)


def _with_parquet_snapshot(inputs: ScreeningInputs, directory: Path) -> ScreeningInputs:
    snapshot = {}
    for name in ("persons", "households"):
        table = getattr(inputs, name)
        # Two files per table, as a snapshot written in parts would be.
        half = table.num_rows // 2
        paths = (directory / f"{name}-1.parquet", directory / f"{name}-2.parquet")
        pq.write_table(table.slice(0, half), paths[0])
        pq.write_table(table.slice(half), paths[1])
        snapshot[name] = ParquetTable(paths=paths)
    return dataclasses.replace(inputs, **snapshot)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_case_on_duckdb_with_the_snapshot_as_parquet(case, tmp_path):
    inputs = _with_parquet_snapshot(case_inputs(case, tmp_path / "feeds", work_dir=None), tmp_path)

    results = DuckDBEngine().run(inputs, {"case": _query(case)})

    _check(case, results["case"])


@pytest.mark.spark
@pytest.mark.parametrize("case", SPARK_CASES, ids=[c.name for c in SPARK_CASES])
def test_rule_case_on_spark_with_the_snapshot_as_parquet(case, tmp_path, spark_engine):
    work = tmp_path / "work"
    work.mkdir()
    inputs = _with_parquet_snapshot(case_inputs(case, tmp_path / "feeds", work_dir=work), tmp_path)

    results = spark_engine.run(inputs, {"case": _query(case)})

    _check(case, results["case"])
    # Read where they lie: nothing of the snapshot is written again to the run's folder.
    assert list(work.iterdir()) == []
