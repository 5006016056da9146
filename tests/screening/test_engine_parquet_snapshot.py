"""The DuckDB engine reads a registry snapshot given as Parquet files (a province's registry,
too large to pass as Arrow) and finds exactly what it finds in the same snapshot as Arrow."""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq
import pytest

from shouwang.screening.engines.base import ParquetTable
from shouwang.screening.engines.duckdb import DuckDBEngine
from tests.screening.rule_cases import CASES, case_inputs
from tests.screening.test_rule_cases import _check, _query


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_case_on_duckdb_with_the_snapshot_as_parquet(case, tmp_path):
    inputs = case_inputs(case, tmp_path / "feeds", work_dir=None)
    snapshot = {}
    for name in ("persons", "households"):
        table = getattr(inputs, name)
        # Two files per table, as a snapshot written in parts would be.
        half = table.num_rows // 2
        paths = (tmp_path / f"{name}-1.parquet", tmp_path / f"{name}-2.parquet")
        pq.write_table(table.slice(0, half), paths[0])
        pq.write_table(table.slice(half), paths[1])
        snapshot[name] = ParquetTable(paths=paths)

    results = DuckDBEngine().run(dataclasses.replace(inputs, **snapshot), {"case": _query(case)})

    _check(case, results["case"])
