"""The Content-Security-Policy allows scripts and styles from this site only, so no template
may hold an inline script, a style attribute or an inline event handler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "shouwang"
TEMPLATES = sorted(p for p in SRC.rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
# Django's admin keeps its own templates; ours are checked.


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_inline_script_style_or_handler(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to a static file"
    assert not STYLE_ATTRIBUTE.search(text), "style attribute: use a class"
    assert not EVENT_HANDLER.search(text), "inline event handler: use a static script"


def test_pages_send_the_policy(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
