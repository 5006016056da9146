"""The route sweep: every route of the site and the API, requested as users of other areas.

Routes come from Django's URL resolver (pages, the admin, API routes outside the schema) and
from the OpenAPI schema (every API path and method), so a new route is swept without being
listed here. Route parameters are filled with area A's records (``sweep_data``): a parameter
that has no filler fails its route's test, naming the key to add to ``FILLERS``.

Each route is requested with GET and POST (and every other method the schema lists) by a
village cadre of another village of the same township and by a township user of another
township. A route naming one of area A's records must answer 403, 404 or 405; any other
route may answer, but its response must show nothing of area A. Nothing may change: every
table but the audit trail and sessions is compared before and after each request, and so
are the files under the media, feeds and screening folders.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import traceback
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shouwang.assistance.coverage import Problem
from shouwang.cases.choices import CaseVerb
from shouwang.cases.routine_choices import AgendaKind
from shouwang.core.jurisdiction import actor_prefixes
from shouwang.registry.models import Household
from shouwang.registry.services import household_update
from tests.security.sweep_data import (
    PNG,
    Ref,
    SweepWorld,
    build_sweep_world,
    database_digest,
    digest_changes,
    files_under,
    writes_so_far,
)

# --- the routes ------------------------------------------------------------------------------

API_PREFIX = "api/"
RESOLVER, SCHEMA = "URL resolver", "OpenAPI schema"
SOURCES = (RESOLVER, SCHEMA)
#: Routes whose purpose is signing in or out: they answer a signed-in user as they please
#: (the login form again, a redirect after signing out), but still change nothing and show
#: nothing of area A.
SIGN_IN_ROUTES = frozenset(
    {"login/", "logout/", "admin/login/", "admin/logout/", "api/auth/token/"}
)
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """One route to sweep: ``template`` is its path with parameters as ``{name}``."""

    template: str
    name: str
    #: "page" (the site and the admin, with a session) or "api" (with a token).
    client: str
    methods: tuple[str, ...]
    #: Where the route was found, for messages.
    source: str

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.template)

    @property
    def admin(self) -> bool:
        return self.template.startswith("admin/")


def _regex_to_template(regex: str) -> str | None:
    """``^households/(?P<pk>\\d+)/$`` → ``households/{pk}/``; ``None`` for a format suffix
    variant (``.json``), which is the same view as the route without it."""
    out, i = [], 0
    while i < len(regex):
        char = regex[i]
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            if name == "format":
                return None
            depth, j = 0, i
            while True:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append("{" + name + "}")
            i = j
        elif char == "\\":
            out.append(regex[i + 1])
            i += 2
        elif char in "^$":
            i += 1
        elif char == "?" and out and out[-1] == "/":
            i += 1  # the optional trailing slash of a format route
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _pattern_to_template(pattern: Any) -> str | None:
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        if "<drf_format_suffix:format>" in text:
            return None
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    return _regex_to_template(text)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        piece = _pattern_to_template(entry.pattern)
        if piece is None:
            continue
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            yield from _walk(entry.url_patterns, prefix + piece, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield Route(prefix + piece, name, "page", ("GET", "POST"), RESOLVER)


def _schema_routes() -> list[Route]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = []
    for path, operations in schema["paths"].items():
        listed = [m.upper() for m in operations if m in ("get", "post", "put", "patch", "delete")]
        methods = tuple(dict.fromkeys(["GET", "POST", *listed]))
        routes.append(Route(path.lstrip("/"), "", "api", methods, SCHEMA))
    return routes


def _route_to_template(route: str) -> str:
    """A resolved match's route (path and regex pieces joined) as a template."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", _regex_to_template(route) or "")


def _api_route_key(template: str) -> str:
    """An API route with its parameters unnamed, to match the resolver's ``{pk}`` with the
    schema's ``{id}``."""
    return re.sub(r"{\w+}", "{}", template)


def sweep_routes() -> list[Route]:
    """Every route once: the schema's API operations (named after the resolver's route), then
    the resolver's other routes."""
    resolved = list(_walk(get_resolver().url_patterns))
    names = {_api_route_key(r.template): r.name for r in resolved}
    schema = [
        Route(r.template, names.get(_api_route_key(r.template), ""), r.client, r.methods, r.source)
        for r in _schema_routes()
    ]
    in_schema = {_api_route_key(r.template) for r in schema}
    routes = list(schema)
    for route in resolved:
        if route.template.startswith(API_PREFIX):
            if _api_route_key(route.template) in in_schema:
                continue
            route = Route(route.template, route.name, "api", route.methods, route.source)
        routes.append(route)
    return routes


ROUTES = sweep_routes()

# --- filling route parameters ----------------------------------------------------------------

#: Route parameters and the records that fill them: the key is the route up to and including
#: the parameter, so every action under a known object path is filled without being listed;
#: ``{name}`` alone fills a parameter of that name anywhere. Values are keys of
#: ``SweepWorld.refs``, or of ``NEUTRAL_FILLERS``.
FILLERS = {
    # pages
    "households/{pk}": "household",
    "members/{pk}": "member",
    "registry/io/jobs/{pk}": "import_job",
    "grids/{pk}": "grid",
    "screening/alerts/{pk}": "alert",
    "screening/runs/{pk}": "run",
    "screening/feeds/batches/{pk}": "batch",
    "screening/feeds/{slug}": "feed_source",
    "screening/rules/{slug}": "screening_rule",
    "screening/policy/{pk}": "policy_value",
    "cases/{pk}": "case",
    "cases/eliminate/{household_id}": "household",
    "cases/notice/{village_code}": "village",
    "leads/{pk}": "lead",
    "routines/meetings/{pk}": "meeting",
    "routines/campaigns/{pk}": "campaign",
    "assistance/coverage/problems/{problem}": "coverage_problem",
    "assistance/measures/{pk}": "plan_measure",
    "assistance/households/{household_id}": "household",
    "assistance/catalogue/groups/{pk}": "measure_group",
    "assistance/catalogue/measures/{pk}": "measure",
    "assistance/rules/{pk}": "recommendation_rule",
    "social/offers/{pk}": "offer",
    "social/matches/{pk}": "match",
    "{household_pk}": "household",
    "{attachment_pk}": "attachment",
    "{verb}": "case_verb",
    # the API
    "api/alerts/{id}": "alert",
    "api/campaigns/{id}": "campaign",
    "api/cases/{id}": "case",
    "api/divisions/{code}": "village",
    "api/feed-batches/{id}": "batch",
    "api/feed-sources/{slug}": "feed_source",
    "api/households/{id}": "household",
    "api/leads/{id}": "lead",
    "api/measure-groups/{id}": "measure_group",
    "api/measures/{id}": "measure",
    "api/meetings/{id}": "meeting",
    "api/members/{id}": "member",
    "api/plan-measures/{id}": "plan_measure",
    "api/plans/{id}": "plan",
    "api/policy-values/{id}": "policy_value",
    "api/recommendation-rules/{id}": "recommendation_rule",
    "api/reviews/{id}": "review",
    "api/rules/{slug}": "screening_rule",
    "api/screening-runs/{id}": "run",
    "api/social-matches/{id}": "match",
    "api/social-offers/{id}": "offer",
}
#: Parameters of the admin's routes, by name: every admin route answers a user without staff
#: status the same way, whatever it names.
ADMIN_FILLERS = {
    "object_id": "admin_object",
    "id": "admin_object",
    "content_type_id": "admin_content_type",
    "app_label": "admin_app",
    "url": "admin_any",
}


def _admin_object(world: SweepWorld, route: Route) -> list[Ref]:
    """Area A's record of the admin page's model where the sweep has one, else any row;
    area A's household for the admin's "view on site" redirect."""
    app_label, model_name = route.template.split("/")[1:3]
    if app_label == "r":
        return world.refs["household"]
    model = apps.get_model(app_label, model_name)
    by_model = {"registry.household": "household", "registry.member": "member"}
    kind = by_model.get(model._meta.label_lower)
    if kind:
        return world.refs[kind]
    row = model._base_manager.order_by("pk").first()
    return [Ref(row.pk if row else 1, f"{model._meta.label} row")]


def _admin_content_type(world: SweepWorld, route: Route) -> list[Ref]:
    return [Ref(ContentType.objects.get(app_label="registry", model="household").pk, "type")]


NEUTRAL_FILLERS = {
    "case_verb": lambda world, route: [Ref(v, f"verb {v}") for v in CaseVerb.values],
    "coverage_problem": lambda world, route: [Ref(p, f"problem {p}") for p in Problem.FLAGS],
    "admin_object": _admin_object,
    "admin_content_type": _admin_content_type,
    "admin_app": lambda world, route: [Ref("registry", "app")],
    "admin_any": lambda world, route: [Ref("registry/nothing-here/", "path")],
}


def parameter_refs(route: Route, world: SweepWorld) -> dict[str, list[Ref]]:
    """The candidate values of each of the route's parameters; fails when one has no filler."""
    filled: dict[str, list[Ref]] = {}
    for param in route.params:
        end = route.template.index("{" + param + "}") + len(param) + 2
        key = route.template[:end]
        kind = (
            FILLERS.get(key)
            or (ADMIN_FILLERS.get(param) if route.admin else None)
            or FILLERS.get("{" + param + "}")
        )
        if kind is None:
            pytest.fail(
                f"The route sweep cannot fill {{{param}}} of {route.template} ({route.source}). "
                f"Add {key!r} to FILLERS in {Path(__file__).name}, naming the record it takes "
                f"(one of {sorted(world.refs)} or {sorted(NEUTRAL_FILLERS)}); build that record "
                f"in sweep_data.build_sweep_world if it is a new kind."
            )
        if kind in NEUTRAL_FILLERS:
            filled[param] = NEUTRAL_FILLERS[kind](world, route)
        else:
            filled[param] = world.refs[kind]
    return filled


FOREIGN, OWN, SHARED = "foreign", "own", "shared"


@dataclass(frozen=True)
class Target:
    url: str
    refs: tuple[Ref, ...]
    #: FOREIGN: names one of area A's records, and must answer 403, 404 or 405. OWN: names
    #: the user's own records only (a request aimed at area A through them). SHARED: names
    #: nothing of anyone's area (a list, a catalogue entry, a county-wide offer).
    mode: str

    def describe(self) -> str:
        return ", ".join(f"{r.label} {r.value}" for r in self.refs) or "no parameters"


def targets(route: Route, world: SweepWorld, user: Any) -> list[Target]:
    """Every combination of the parameters' candidate values, each with its mode."""
    refs = parameter_refs(route, world)
    names = list(refs)
    out = []
    for combo in itertools.product(*(refs[n] for n in names)):
        if any(r.foreign_to(user) for r in combo):
            mode = FOREIGN
        elif any(r.own_of(user) for r in combo):
            mode = OWN
        else:
            mode = SHARED
        path = route.template
        for name, ref in zip(names, combo, strict=True):
            path = path.replace("{" + name + "}", urllib.parse.quote(str(ref.value), safe="/"))
        out.append(Target("/" + path, combo, mode))
    return out


# --- the requests ----------------------------------------------------------------------------


def hostile_fields(world: SweepWorld) -> dict[str, Any]:
    """A request body that points every field a form or serializer might read at area A."""
    t = world.targets
    return {
        "household": t["household"],
        "household_id": t["household"],
        "households": [t["household"], t["applicant_household"]],
        "household_ids": [t["household"]],
        "member": t["member"],
        "member_id": t["member"],
        "new_head": t["member"],
        "case": t["case"],
        "lead": t["lead"],
        "alert": t["alert"],
        "plan": t["plan"],
        "plan_measure": t["plan_measure"],
        "plan_measure_ids": [t["plan_measure"]],
        "ids": [t["plan_measure"]],
        "need": t["plan_measure"],
        "offer": t["offer"],
        "match": t["match"],
        "grid": t["grid"],
        "campaign": t["campaign"],
        "measure": t["measure"],
        "group": t["measure_group"],
        "village": t["village"],
        "division": t["village"],
        "scope": t["village"],
        "assignee": t["cadre"],
        "assigned_to": t["cadre"],
        "members": [t["cadre"]],
        "id_number": t["patient_id_number"],
        "channel": "home_visit",
        "person_name": "甲",
        "name": "甲",
        "title": "甲",
        "description": "甲",
        "note": "甲",
        "reason": "甲",
        "checker": "甲",
        "result": "no_change",
        "checked_on": "2026-11-19",
        "received_on": "2026-11-20",
        "month": "202611",
        "quarter": "2026Q4",
        "status": "delivered",
        "format": "csv",
        "department": t["department"],
        # What creating a record needs, so that a create reaches the area check.
        "household_number": f"{t['village']}9990",
        "household_type": "poverty_exited",
        "income_year": 2025,
        "relation": "son",
        "education": "junior",
        "labour_skill": "ordinary",
        "kind": "identification",
        "held_on": "2026-11-18",
        "attendees": "甲、乙、丙",
        "reviewed_on": "2026-11-19",
        "risk_present": True,
        "plan_needs_change": False,
        "reviewers": "甲",
        "starts_on": "2027-01-01",
        "ends_on": "2027-01-31",
        "applicant_name": "甲",
        "applied_on": "2026-11-20",
        "pledge_signed": True,
        "asset_check_consent": True,
        "parameter": "notice_days",
        "value": "5",
    }


def hostile_query(world: SweepWorld) -> dict[str, Any]:
    """Filters and searches aimed at area A (never an ID number: those are not put in URLs).
    Searches are fragments, so an echoed search box does not look like a leak."""
    t = world.targets
    return {
        "household": t["household"],
        "village": t["village"],
        "division": t["village"],
        "township": t["village"][:9] + "000",
        "case": t["case"],
        "lead": t["lead"],
        "offer": t["offer"],
        "plan": t["plan"],
        "campaign": t["campaign"],
        "assigned_to": t["cadre"],
        "month": "202611",
        "quarter": "2026Q4",
        # The done tab where a list has one (the reviews recorded, beside those still due).
        "show": "done",
        "q": "蔺奉",
        "search": "1042009901",
        "household_number": "1042009901",
    }


def _page_requests(
    client: Client, method: str, target: Target, world: SweepWorld
) -> Iterator[tuple[str, Any]]:
    if method == "GET":
        yield "GET", lambda: client.get(target.url)
        if target.mode == SHARED:
            query = hostile_query(world)
            yield "GET (aimed query)", lambda: client.get(target.url, query)
            # htmx asks for the results alone: a partial built by a path of its own.
            yield (
                "GET (aimed query, htmx)",
                lambda: client.get(target.url, query, HTTP_HX_REQUEST="true"),
            )
        return
    body = hostile_fields(world)
    if target.mode != SHARED:
        # A file, for the upload routes: it must not be kept for another area's record.
        body["file"] = SimpleUploadedFile("sweep.png", PNG, content_type="image/png")
    yield (
        f"{method} (aimed body)",
        lambda: client.generic(
            method, target.url, encode_multipart(BOUNDARY, body), MULTIPART_CONTENT
        ),
    )


def _api_requests(
    client: APIClient, method: str, target: Target, world: SweepWorld
) -> Iterator[tuple[str, Any]]:
    if method == "GET":
        yield "GET", lambda: client.get(target.url)
        if target.mode == SHARED:
            yield "GET (aimed query)", lambda: client.get(target.url, hostile_query(world))
        return
    t = world.targets
    body = {
        **hostile_fields(world),
        "items": [{"measure": t["measure"], "member": t["member"]}],
        "removals": [{"member_id": t["member"], "reason": "death"}],
        "decisions": dict.fromkeys(AgendaKind.values, "甲"),
    }
    yield (
        f"{method} (aimed JSON)",
        lambda: client.generic(
            method, target.url, json.dumps(body, ensure_ascii=False), "application/json"
        ),
    )


def response_text(response: Any) -> str:
    """The body as text, spreadsheets unpacked (a marker inside an .xlsx is zipped)."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"".join(archive.read(n) for n in archive.namelist())
    return content.decode("utf-8", errors="replace")


ALLOWED_STATUSES = {
    FOREIGN: frozenset({403, 404, 405}),
    # 201 where the schema documents it (proposing matches answers the list it made, which
    # is empty outside the user's area); the digest says whether anything was made.
    SHARED: frozenset({200, 201, 302, 400, 403, 404, 405, 415}),
    # The user's own record may well accept the request; what it does to area A is checked.
    OWN: frozenset({200, 201, 204, 302, 400, 403, 404, 405, 409, 415}),
}


def response_problems(
    route: Route, target: Target, what: str, response: Any, world: SweepWorld, carried_id: bool
) -> list[str]:
    """What is wrong with one answer; an empty list when it is right."""
    where = f"{what} {target.url} [{target.describe()}]"
    problems = []
    status = response.status_code
    if status >= 500:
        detail = ""
        if getattr(response, "exc_info", None):
            exc_type, exc, tb = response.exc_info
            frame = traceback.extract_tb(tb)[-1]
            detail = f": {exc_type.__name__}: {exc} at {frame.filename}:{frame.lineno}"
        return [f"{where} → {status}{detail}"]
    location = response.get("Location", "") if status in (301, 302, 303, 307, 308) else ""
    # The admin sends a signed-in user without staff status to its own sign-in page.
    admin_refusal = route.admin and location.startswith(reverse("admin:login"))
    if route.template not in SIGN_IN_ROUTES and not admin_refusal:
        allowed = ALLOWED_STATUSES[target.mode]
        if status not in allowed:
            problems.append(f"{where} → {status}, expected one of {sorted(allowed)}")
        if location.startswith(reverse(settings.LOGIN_URL)):
            problems.append(f"{where} → redirected to the sign-in page although signed in")
    text = response_text(response)
    for marker in world.markers:
        if marker in text:
            problems.append(f"{where} → {status} shows area A's {marker!r}")
    for secret in world.secrets:
        if secret in text and not (carried_id and secret == world.targets["patient_id_number"]):
            problems.append(f"{where} → {status} shows a full ID or phone number of area A")
    return problems


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep(django_db_setup, django_db_blocker, tmp_path_factory):
    """Area A's records, built once for the module in a transaction rolled back at its end;
    each test runs inside it in its own savepoint, as pytest-django's tests do."""
    base = tmp_path_factory.mktemp("sweep")
    folders = {
        "MEDIA_ROOT": base / "media",
        "SHOUWANG_FEEDS_DIR": base / "feeds",
        "SHOUWANG_SCREENING_DIR": base / "screening",
    }
    with django_db_blocker.unblock(), override_settings(**folders), transaction.atomic():
        world = build_sweep_world()
        sessions = {}
        for key, user in world.users.items():
            page = Client()
            page.force_login(user)
            sessions[key] = page.session.session_key
        tokens = {key: Token.objects.create(user=u).key for key, u in world.users.items()}
        # Every test starts from these rows: each one's changes are rolled back.
        world.baseline = database_digest()
        world.baselines_elsewhere = {
            key: database_digest(leaving_out=own_area(user)) for key, user in world.users.items()
        }
        yield world, sessions, tokens, folders
        transaction.set_rollback(True)


@pytest.fixture
def sweep_folders(sweep, settings):
    """The module's folders, where area A's attachment, rejects and staged files are."""
    _world, _sessions, _tokens, folders = sweep
    for name, folder in folders.items():
        setattr(settings, name, folder)
    return list(folders.values())


def own_area(user: Any) -> tuple[str, ...]:
    return tuple(actor_prefixes(user))


def _client(route: Route, user_key: str, sweep: Any) -> Client:
    _world, sessions, tokens, _folders = sweep
    if route.client == "api":
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[user_key]}")
        return client
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = sessions[user_key]
    return client


# --- the tests -------------------------------------------------------------------------------

USERS = {
    "village_b": "a village cadre of 火炉社区 (another village of the same township)",
    "township_other": "a township user of 凤山街道 (another township)",
}

#: Defects the sweep finds in code under repair elsewhere: (user, method, route) → reason.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}


def _cases() -> Iterator[Any]:
    for route in ROUTES:
        for user_key in USERS:
            for method in route.methods:
                key = (user_key, method, route.template)
                marks = []
                if key in KNOWN_DEFECTS:
                    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[key])]
                yield pytest.param(
                    route,
                    user_key,
                    method,
                    id=f"{user_key}-{method}-/{route.template}",
                    marks=marks,
                )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "user_key", "method"), list(_cases()))
def test_another_area_gets_nothing_and_changes_nothing(
    route: Route, user_key: str, method: str, sweep, sweep_folders
):
    world = sweep[0]
    user = world.users[user_key]
    client = _client(route, user_key, sweep)
    requests = _api_requests if route.client == "api" else _page_requests
    problems: list[str] = []
    leaving_out = own_area(user)
    rows, rows_elsewhere = world.baseline, world.baselines_elsewhere[user_key]
    files = files_under(*sweep_folders)
    sent = 0
    for target in targets(route, world, user):
        resolved = _route_to_template(resolve(urllib.parse.unquote(target.url)).route)
        assert _api_route_key(resolved) == _api_route_key(route.template), (target.url, resolved)
        for what, send in requests(client, method, target, world):
            # Each request in a savepoint rolled back afterwards, so the next one starts from
            # the same records (a request on the user's own record may change it).
            with transaction.atomic():
                writes = writes_so_far()
                response = send()
                sent += 1
                where = f"{what} {target.url} [{target.describe()}] → {response.status_code}"
                problems += response_problems(
                    route, target, what, response, world, carried_id=what.startswith(BODY_METHODS)
                )
                try:
                    changed = []
                    if writes_so_far() != writes:
                        if target.mode == FOREIGN:
                            changed = digest_changes(rows, database_digest())
                        else:
                            after = database_digest(leaving_out=leaving_out)
                            changed = digest_changes(rows_elsewhere, after)
                except DatabaseError as error:
                    changed = [f"the database transaction, left broken ({error})"]
                files_after = files_under(*sweep_folders)
                if files_after != files and target.mode != OWN:
                    added = sorted(files_after.keys() ^ files.keys()) or ["contents"]
                    changed.append("files: " + ", ".join(added))
                files = files_after
                if changed:
                    problems.append(f"{where} changed {'; '.join(changed)}")
                transaction.set_rollback(True)
    assert sent, f"no request was made for {route.template}"
    heading = f"{route.template} ({route.name or route.source}) as {USERS[user_key]}:"
    assert not problems, "\n".join([heading, *problems])


# --- the sweep's own machinery ---------------------------------------------------------------


def test_routes_come_from_the_resolver_and_the_schema():
    by_source = {source: [r for r in ROUTES if r.source == source] for source in SOURCES}
    schema_methods = sum(len(set(r.methods) - {"GET", "POST"}) for r in by_source[SCHEMA])
    assert len(by_source[RESOLVER]) > 100 and len(by_source[SCHEMA]) > 60 and schema_methods
    templates = {r.template for r in ROUTES}
    # One of each kind, so that a broken enumeration cannot pass as an empty sweep.
    for template in (
        "households/{pk}/edit/",
        "cases/{pk}/attachments/{attachment_pk}/",
        "registry/io/export/",
        "api/households/{id}/",
        "api/social-matches/{id}/confirm/",
        "api/",
        "admin/registry/household/{object_id}/change/",
    ):
        assert template in templates, template


def test_a_route_without_a_filler_fails_its_sweep(sweep):
    route = Route("widgets/{pk}/", "widgets:detail", "page", ("GET",), RESOLVER)
    with pytest.raises(pytest.fail.Exception, match=r"Add 'widgets/\{pk\}' to FILLERS"):
        parameter_refs(route, sweep[0])


@pytest.mark.django_db
def test_the_change_detection_sees_a_write_and_where_it_lands(sweep):
    """A write raises the connection's write count and changes the digest; leaving a user's
    area out hides writes there and only there."""
    world = sweep[0]
    cadre = world.users["village_b"]
    elsewhere = world.baselines_elsewhere["village_b"]
    area_a = Household.objects.get(pk=world.targets["household"])
    own = Household.objects.get(
        pk=next(r.value for r in world.refs["household"] if r.own_of(cadre))
    )
    for household, seen_leaving_out_own_area in ((area_a, True), (own, False)):
        with transaction.atomic():
            writes = writes_so_far()
            household_update(actor=None, household=household, data={"wage_income": Decimal("1")})
            assert writes_so_far() > writes
            assert digest_changes(world.baseline, database_digest()) == [
                "registry.Household: rows changed"
            ]
            leaving_out = database_digest(leaving_out=own_area(cadre))
            assert bool(digest_changes(elsewhere, leaving_out)) is seen_leaving_out_own_area
            transaction.set_rollback(True)
    assert database_digest() == world.baseline
