"""``shouwang demo`` on a database that was never migrated migrates it first."""

from __future__ import annotations

import sqlite3

from tests.cli.processes import environment_on, shouwang


def test_demo_on_a_database_never_migrated(tmp_path):
    var_dir = tmp_path / "var"
    environment = environment_on(var_dir)

    completed = shouwang("demo", "--households", "30", "--no-feeds", environment=environment)

    assert "先执行数据库迁移" in completed.stdout
    assert "Traceback" not in completed.stderr
    with sqlite3.connect(var_dir / "shouwang.sqlite3") as database:
        (households,) = database.execute("SELECT COUNT(*) FROM registry_household").fetchone()
        (applied,) = database.execute(
            "SELECT COUNT(*) FROM django_migrations WHERE app = 'screening'"
        ).fetchone()
    assert households == 30
    assert applied >= 4

    # A second run finds the schema up to date and says nothing about migrating.
    again = shouwang("demo", "--if-empty", environment=environment)
    assert "先执行数据库迁移" not in again.stdout
    assert "已有农户" in again.stdout
