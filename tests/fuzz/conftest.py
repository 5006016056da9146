"""The API fuzz's district: a small demo built once for the module, inside one transaction that
is rolled back after it, so the fuzz leaves the test database as it found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import override_settings

from tests.fuzz.world import FUZZ_STATS, FuzzWorld, fuzz_world_build


def _is_test_database() -> bool:
    """pytest-django's test database: ``test_<name>`` on PostgreSQL, in memory on SQLite."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        return connection.is_in_memory_db() or "test" in name
    return name.startswith("test_")


@pytest.fixture(scope="module", autouse=True)
def _quiet_client_errors():
    """Thousands of deliberate 4xx answers would each log a warning; server errors still log."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[FuzzWorld]:
    """The district every fuzzed request meets.

    The build and every request run inside one transaction, rolled back at the end. As
    Django's test client does, ``close_old_connections`` is off the request signals meanwhile:
    a request must not close the connection that holds the transaction. Staged files go to a
    temporary folder.
    """
    var = tmp_path_factory.mktemp("fuzz-var")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(
                SHOUWANG_FEEDS_DIR=var / "feeds",
                SHOUWANG_SCREENING_DIR=var / "screening",
                MEDIA_ROOT=var / "media",
            ),
        ):
            assert _is_test_database(), "the fuzz runs only against the test database"
            with transaction.atomic():
                yield fuzz_world_build()
                transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def pytest_terminal_summary(terminalreporter):
    for line in FUZZ_STATS.summary():
        terminalreporter.write_line(line)
