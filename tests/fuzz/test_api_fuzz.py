"""Schemathesis over the whole API, as a district administrator and as a village cadre.

Every operation of the served ``/api/schema/`` is called in process through the WSGI
application, with a token in the Authorization header: the schema's examples (an existing
record for each path parameter), a bounded number of generated cases (valid and invalid), and
for reads the coverage cases (boundaries and invalid values of every query parameter, and the
methods a path does not have). No answer may be a server error, and every answer must match
the schema, its status code and its body alike: bad input is a documented 4xx with the one
error body.

Bounded and repeatable: a fixed seed, ``MAX_EXAMPLES`` generated cases per operation and user,
no shrinking, and a time budget per user after which the remaining operations are skipped
(named in the skip). A deeper run, e.g. before a release::

    SHOUWANG_FUZZ_EXAMPLES=100 SHOUWANG_FUZZ_COVERAGE=all SHOUWANG_FUZZ_BUDGET=0 \\
        .venv/bin/pytest tests/fuzz
"""

from __future__ import annotations

import copy
import os
import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.checks import not_a_server_error
from schemathesis.config import HealthCheck
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.world import DISTRICT_USER, FUZZ_STATS, VILLAGE_USER, FuzzWorld

pytestmark = pytest.mark.django_db

#: Generated cases per operation and user (the examples and coverage phases add their own).
MAX_EXAMPLES = int(os.environ.get("SHOUWANG_FUZZ_EXAMPLES", "12"))
#: Which operations also get the coverage phase: "get" (reads), "all" or "none".
COVERAGE = os.environ.get("SHOUWANG_FUZZ_COVERAGE", "get")
#: Seconds per user (typically half of it is used); 0 for no limit.
BUDGET_SECONDS = float(os.environ.get("SHOUWANG_FUZZ_BUDGET", "120"))
#: The same cases on every run and machine.
SEED = 500156
#: Stands in the schema for "a record that exists"; each case gets the world's key there.
KNOWN = {"id": "4242424242", "slug": "known-record", "code": "known-division"}

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _served_schema() -> dict:
    app = get_wsgi_application()
    raw = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app).raw_schema
    # Path parameters get a stand-in example, so the examples and coverage phases also reach
    # records that exist (random ids only meet 404s).
    for item in raw["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter["name"] in KNOWN:
                    parameter["example"] = KNOWN[parameter["name"]]
    return raw


_SERVED = _served_schema()


def _load(*, coverage: bool):
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_SERVED))
    schema.app = get_wsgi_application()
    schema.config.seed = SEED
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, database="none", no_shrink=True
    )
    schema.config.phases.examples.fill_missing = True
    schema.config.phases.coverage.enabled = coverage
    schema.config.phases.stateful.enabled = False
    # Hypothesis's timing check would make a loaded machine fail a run that is otherwise the same.
    schema.config.update(suppress_health_check=[HealthCheck.too_slow])
    return schema


if COVERAGE == "get":
    # The coverage phase enumerates every case a schema defines: a few dozen for a list's
    # query parameters, hundreds for a large body, which the generated cases sample instead.
    schema = None
    reads = _load(coverage=True).include(method="GET")
    writes = _load(coverage=False).exclude(method="GET")
else:
    schema = _load(coverage=COVERAGE == "all")
    reads = writes = None


@pytest.fixture(autouse=True)
def _within_budget(request):
    user = DISTRICT_USER if "district" in request.node.name else VILLAGE_USER
    spent = FUZZ_STATS.wall.get(user, 0.0)
    if BUDGET_SECONDS and spent > BUDGET_SECONDS:
        FUZZ_STATS.skipped[user] = FUZZ_STATS.skipped.get(user, 0) + 1
        pytest.skip(f"API fuzz time budget of {BUDGET_SECONDS:.0f} s for {user} spent")
    started = time.monotonic()
    yield
    FUZZ_STATS.wall[user] = spent + time.monotonic() - started


def _call(case, world: FuzzWorld, username: str) -> None:
    for name, value in (case.path_parameters or {}).items():
        if value == KNOWN.get(name):
            case.path_parameters[name] = world.known_key(case.path, name)
    started = time.monotonic()
    try:
        # The checks raise on a server error or an answer outside the schema; the status is
        # asserted as well so the test says plainly what it requires.
        response = case.call_and_validate(
            headers={"Authorization": f"Token {world.tokens[username]}"}, checks=CHECKS
        )
        assert response.status_code < 500, response.text[:500]
    finally:
        FUZZ_STATS.record(
            username, f"{case.operation.method.upper()} {case.operation.path}", started
        )


if reads is None:

    @schema.parametrize()
    def test_as_district_admin(case, fuzz_world):
        _call(case, fuzz_world, DISTRICT_USER)

    @schema.parametrize()
    def test_as_village_cadre(case, fuzz_world):
        _call(case, fuzz_world, VILLAGE_USER)

else:

    @reads.parametrize()
    def test_reads_as_district_admin(case, fuzz_world):
        _call(case, fuzz_world, DISTRICT_USER)

    @writes.parametrize()
    def test_writes_as_district_admin(case, fuzz_world):
        _call(case, fuzz_world, DISTRICT_USER)

    @reads.parametrize()
    def test_reads_as_village_cadre(case, fuzz_world):
        _call(case, fuzz_world, VILLAGE_USER)

    @writes.parametrize()
    def test_writes_as_village_cadre(case, fuzz_world):
        _call(case, fuzz_world, VILLAGE_USER)
