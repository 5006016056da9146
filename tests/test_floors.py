"""The house has floors: an app imports only apps on the floors below it.

Every import under ``src/shouwang`` is read from the source (function-level ones too), so a
circle cannot hide inside a function. A new app goes into ``FLOORS``; an exception goes into
``ALLOWED`` with the reason, and the list should only get shorter.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shouwang

SOURCE = Path(shouwang.__file__).parent

#: Bottom to top. Apps on one floor do not import each other either.
FLOORS = {
    "core": 0,
    "registry": 1,
    "policy": 1,
    "screening": 2,
    "cases": 3,
    "assistance": 4,
    "workplace": 6,
    "api": 7,
    "cli": 7,
}

#: (importing module, imported module) → why it is allowed for now.
ALLOWED = {
    ("cases.demo", "assistance.models"): "demo data; moves to the demo package",
    ("registry.demo", "cases.demo"): "demo data; moves to the demo package",
    ("cases.routine_selectors", "assistance.choices"): (
        "the village routines read assistance; they move to workplace"
    ),
    ("cases.routine_selectors", "assistance.models"): (
        "the village routines read assistance; they move to workplace"
    ),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # ``from shouwang import cases`` names the app in the alias.
            if node.module == "shouwang":
                found += [(node.lineno, f"shouwang.{alias.name}") for alias in node.names]
    return found


def _floor_violations() -> dict[tuple[str, str], list[str]]:
    violations: dict[tuple[str, str], list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        if len(parts) < 2:
            continue  # urls.py and wsgi.py stand above every floor
        app = parts[0]
        if app == "settings":
            continue
        assert app in FLOORS, f"{app} is on no floor: add it to FLOORS in {__file__}"
        module = ".".join(parts)
        for line, name in _imports(path):
            target = name.split(".")
            if target[0] != "shouwang" or len(target) < 2 or target[1] in (app, "settings"):
                continue
            other = target[1]
            assert other in FLOORS, f"{module} imports {name}, an app on no floor"
            if FLOORS[other] >= FLOORS[app]:
                key = (module, ".".join(target[1:3]))
                violations.setdefault(key, []).append(f"{path.relative_to(SOURCE)}:{line}")
    return violations


def test_no_app_imports_a_floor_above_it():
    violations = _floor_violations()

    unexplained = {key: where for key, where in violations.items() if key not in ALLOWED}
    assert unexplained == {}, (
        "upward imports (move the code, or add to ALLOWED with the reason): "
        + "; ".join(f"{a} → {b} at {', '.join(w)}" for (a, b), w in unexplained.items())
    )


def test_the_allow_list_holds_only_what_still_exists():
    violations = _floor_violations()

    assert [key for key in ALLOWED if key not in violations] == []
