"""Every piece of interface text goes through the translation machinery.

A template may hold Chinese only inside {% translate %} / {% blocktranslate %} (or a comment),
so another language can be added with a message catalogue and no template edit.
"""

import re
from pathlib import Path

import pytest

import shouwang

TEMPLATE_ROOT = Path(shouwang.__file__).parent
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
TRANSLATED = [
    re.compile(r"\{%\s*blocktranslate\b.*?%\}.*?\{%\s*endblocktranslate\s*%\}", re.S),
    re.compile(r"\{%\s*translate\b.*?%\}", re.S),
    re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S),
    re.compile(r"\{#.*?#\}", re.S),
]


def _templates():
    return sorted(p for p in TEMPLATE_ROOT.rglob("*.html") if "static" not in p.parts)


def test_there_are_templates():
    assert any(p.name == "base.html" for p in _templates())


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATE_ROOT)))
def test_template_has_no_untranslated_chinese(path):
    text = path.read_text(encoding="utf-8")
    for pattern in TRANSLATED:
        text = pattern.sub("", text)
    leftovers = [line.strip() for line in text.splitlines() if CJK.search(line)]
    assert leftovers == [], f"untranslated text in {path.name}: {leftovers[:5]}"
