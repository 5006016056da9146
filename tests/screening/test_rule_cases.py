"""Every rule case on DuckDB and on Spark: same alerts, same values, same evidence, same types.

Spark cases skip only when pyspark is not installed and SHOUWANG_REQUIRE_SPARK is unset; CI sets
it, so there they run or fail. One SparkSession serves the whole session (``spark_engine`` in
conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from shouwang.policy.parameters import PARAMETERS
from shouwang.screening.compiler import RESULT_COLUMNS, compile_rule, unpack_evidence
from shouwang.screening.default_rules import DEFAULT_RULES
from shouwang.screening.engines.duckdb import DuckDBEngine
from shouwang.screening.spec import parse_rule_spec
from tests.screening.rule_cases import CASES, SOURCES, Expected, RuleCase, case_inputs

#: What every engine returns for every compiled query.
RESULT_TYPES = {
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


def _query(case: RuleCase):
    spec = parse_rule_spec(case.spec, sources=SOURCES, parameters=PARAMETERS)
    return compile_rule(
        spec,
        columns=SOURCES[spec.feed] if spec.feed else None,
        period=case.period,
        thresholds=case.resolved_thresholds(),
    )


def _alerts(table: pa.Table) -> list[Expected]:
    alerts = []
    for item in table.to_pylist():
        evidence = tuple(sorted(unpack_evidence(e) for e in item["evidence"] or ()))
        if item["evidence"] is not None:
            assert item["row_count"] == len(evidence), item["subject_key"]
        alerts.append(Expected(item["subject_key"], item["value"], item["threshold"], evidence))
    return sorted(alerts, key=lambda a: a.subject_key)


def _check(case: RuleCase, table: pa.Table) -> None:
    assert table.column_names == list(RESULT_COLUMNS)
    assert {f.name: f.type for f in table.schema} == RESULT_TYPES
    assert _alerts(table) == sorted(case.expected, key=lambda a: a.subject_key)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_case_on_duckdb(case, tmp_path):
    inputs = case_inputs(case, tmp_path / "feeds", work_dir=None)
    _check(case, DuckDBEngine().run(inputs, {"case": _query(case)})["case"])


@pytest.mark.spark
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_case_on_spark(case, tmp_path, spark_engine):
    work = tmp_path / "work"
    work.mkdir()
    inputs = case_inputs(case, tmp_path / "feeds", work_dir=work)
    _check(case, spark_engine.run(inputs, {"case": _query(case)})["case"])
    # The snapshot went to the run's folder, where a cluster's executors would read it.
    assert {p.name for p in work.iterdir()} == {"persons.parquet", "households.parquet"}


@pytest.mark.spark
def test_spark_runs_several_rules_in_one_run_from_memory(tmp_path, spark_engine):
    """Several queries over one set of inputs; without a work folder the registry comes
    straight from Arrow."""
    feed_case = next(c for c in CASES if c.name.startswith("population: unregistered only"))
    registry_case = next(c for c in CASES if c.spec["feed"] is None)
    inputs = case_inputs(feed_case, tmp_path, work_dir=None)
    results = spark_engine.run(
        inputs, {"feed": _query(feed_case), "registry": _query(registry_case)}
    )
    _check(feed_case, results["feed"])
    _check(registry_case, results["registry"])


def test_spark_without_java_is_unavailable_with_a_chinese_message(tmp_path):
    """No Java on the PATH and no JAVA_HOME: the engine says so instead of hanging or crashing."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import django; django.setup()\n"
        "from shouwang.screening.engines.base import EngineUnavailable, get_engine\n"
        "from tests.screening.rule_cases import CASES, case_inputs\n"
        "inputs = case_inputs(CASES[0], Path(sys.argv[1]), work_dir=None)\n"
        "try:\n"
        "    get_engine('spark').run(inputs, {})\n"
        "except EngineUnavailable as exc:\n"
        "    print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PATH")}
    env["PATH"] = str(Path(sys.executable).parent)
    env.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.test")
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    message = done.stdout.strip()
    assert ("Java" in message) or ("pyspark" in message), done.stderr
    assert "引擎" in message


def test_every_shipped_rule_has_a_case():
    covered = [case.spec for case in CASES]
    assert [r.slug for r in DEFAULT_RULES if r.spec not in covered] == []
