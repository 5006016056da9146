"""Shared helpers for the benchmarks: a Django set up on a chosen database, and timing figures.

Benchmarks are scripts, run by hand (``.venv/bin/python bench/<name>.py``), not by CI's test step.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def setup_django(*, var_dir: Path, database_url: str = "") -> None:
    """Point Shouwang at ``var_dir`` (SQLite file, keys) or ``database_url``, then set Django up.

    The test settings are used: plain static storage (no collected manifest needed) and fast
    password hashing; neither changes what a page costs to render.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SHOUWANG_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "shouwang.settings.test"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


@dataclass
class Timing:
    label: str
    samples_ms: list[float]
    queries: int

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def max(self) -> float:
        return max(self.samples_ms)

    def line(self, *, target_p95_ms: float | None = None) -> str:
        verdict = ""
        if target_p95_ms is not None:
            verdict = "  ok" if self.p95 < target_p95_ms else f"  OVER {target_p95_ms:.0f} ms"
        return (
            f"{self.label:<64} p50 {self.p50:7.1f}  p95 {self.p95:7.1f}  max {self.max:7.1f} ms"
            f"  queries {self.queries:3d}{verdict}"
        )


def measure(label: str, request: Callable[[], object], *, n: int, warmup: int = 5) -> Timing:
    """Time ``n`` calls of ``request`` after ``warmup`` untimed ones; count one call's queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        request()
    with CaptureQueriesContext(connection) as captured:
        request()
    queries = len(captured)  # now: the next request_started signal clears the log it reads
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        request()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(label=label, samples_ms=samples, queries=queries)
