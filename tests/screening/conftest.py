"""Fixtures of the screening tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def spark_engine():
    """One SparkSession for every Spark test (starting the JVM takes seconds). Skips when
    pyspark is not installed, unless SHOUWANG_REQUIRE_SPARK is set (CI): then it fails."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("SHOUWANG_REQUIRE_SPARK"):
            pytest.fail("SHOUWANG_REQUIRE_SPARK is set but pyspark is not installed")
        pytest.skip("pyspark is not installed (install shouwang[spark])")
    from shouwang.screening.engines.spark import SparkEngine, spark_session, spark_session_stop

    spark_session()  # started once here, so a missing Java fails the first case clearly
    yield SparkEngine()
    spark_session_stop()
