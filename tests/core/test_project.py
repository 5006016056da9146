"""The project as installed: migrations in step, the console script, settings."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_console_script_lists_the_shouwang_commands():
    script = Path(sys.executable).parent / "shouwang"
    result = subprocess.run([str(script), "help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for command in ("demo", "serve", "registry", "divisions", "migrate"):
        assert command in result.stdout


def test_interface_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.USE_I18N
