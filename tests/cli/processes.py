"""Running ``shouwang`` as a separate process on a var folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHOUWANG = Path(sys.executable).with_name("shouwang")


def environment_on(
    var_dir: Path, *, data_key: str | None = None, database_url: str | None = None
) -> dict[str, str]:
    """The environment of a process on ``var_dir`` alone: nothing of the test run's settings
    (pytest-django's DJANGO_SETTINGS_MODULE, the suite's DATABASE_URL) leaks in."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SHOUWANG_", "DJANGO_", "PG")) and name != "DATABASE_URL"
    }
    environment["SHOUWANG_VAR_DIR"] = str(var_dir)
    if data_key is not None:
        environment["SHOUWANG_DATA_KEY"] = data_key
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return environment


def shouwang(
    *arguments: str, environment: dict[str, str], expect_success: bool = True
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [str(SHOUWANG), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if expect_success and completed.returncode != 0:
        pytest.fail(
            f"shouwang {' '.join(arguments)} exited {completed.returncode}:\n{completed.stderr}"
        )
    return completed
