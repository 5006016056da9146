"""The browser every Playwright test drives: Debian's Chromium, never a downloaded one.

Without /usr/bin/chromium the tests skip, except under CI, where they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Phone and desktop: every key page is looked at in both.
VIEWPORTS = [(375, 812), (1280, 800)]


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(
            f"{CHROMIUM} is not installed (apt install chromium); with CI set this fails instead"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    # While Playwright's event loop runs in this thread, Django hands the test's ORM calls a
    # connection of their own (asgiref keys connections by that context); close it here, in
    # that context, or PostgreSQL refuses to drop the test database at the end.
    from django.db import connections

    connections.close_all()
    chromium.close()
    playwright.stop()
