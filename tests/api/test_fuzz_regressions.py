"""What the API fuzz (tests/fuzz) found, one test per defect: each bad input answers a
documented 4xx with the one error body, and each answer matches the served schema."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from shouwang.cases.choices import LeadChannel
from shouwang.cases.routine_services import campaign_open
from shouwang.cases.services import case_open, lead_create
from shouwang.core.models import Division
from shouwang.policy.parameters import PARAMETERS
from shouwang.screening.models import Rule
from shouwang.screening.sources import DEFAULT_SOURCES
from shouwang.screening.spec import SpecInvalid, parse_rule_spec
from tests import factories as f
from tests.api.test_screening_api import INPATIENT_SPEC

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"message", "code", "extra"}


@pytest.fixture(scope="module")
def api_schema():
    """``/api/schema/`` as served."""
    raw = APIClient().get("/api/schema/", {"format": "json"}).json()
    return schemathesis.openapi.from_dict(raw)


def assert_documented(api_schema, response, path: str, method: str) -> None:
    """The answer's status code is documented for the operation, and its body matches."""
    request = requests.Request(method, f"http://testserver{response.request['PATH_INFO']}")
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.items()},
        content=response.content,
        request=request.prepare(),
        elapsed=0.0,
        verify=False,
    )
    operation = api_schema[path][method]
    assert str(response.status_code) in operation.definition.raw["responses"]
    operation.validate_response(answer)


@pytest.fixture
def admin_api(api_client_for, district_admin):
    return api_client_for(district_admin)


# --- rule specs: a list or an object where text belongs --------------------------------------

NOT_TEXT = [[None, None], {"slug": "medical"}, 5, True]


@pytest.mark.parametrize("feed", NOT_TEXT)
def test_a_rule_spec_whose_feed_is_not_text_is_refused(feed):
    sources = {s.slug: list(s.columns) for s in DEFAULT_SOURCES}
    with pytest.raises(SpecInvalid) as refused:
        parse_rule_spec({**INPATIENT_SPEC, "feed": feed}, sources=sources, parameters=PARAMETERS)
    assert any("数据源" in e for e in refused.value.errors)


@pytest.mark.parametrize("field", [[None, None], {"a": 1}])
def test_a_rule_spec_whose_aggregated_field_is_not_text_is_refused(field):
    sources = {s.slug: list(s.columns) for s in DEFAULT_SOURCES}
    for feed in ("medical", None):
        spec = {**INPATIENT_SPEC, "feed": feed, "aggregate": {"function": "sum", "field": field}}
        with pytest.raises(SpecInvalid) as refused:
            parse_rule_spec(spec, sources=sources, parameters=PARAMETERS)
        assert any("统计字段" in e or "只能比较" in e for e in refused.value.errors)


@pytest.mark.parametrize(
    "method, path, url",
    [
        ("POST", "/api/rules/", "/api/rules/"),
        ("POST", "/api/rules/preview/", "/api/rules/preview/"),
        ("PATCH", "/api/rules/{slug}/", "/api/rules/housing-unsafe/"),
        ("POST", "/api/rules/{slug}/preview/", "/api/rules/housing-unsafe/preview/"),
    ],
)
def test_rule_writes_and_previews_refuse_a_feed_that_is_not_text(
    admin_api, api_schema, method, path, url
):
    body = {"slug": "fuzzed", "name": "x", "spec": {**INPATIENT_SPEC, "feed": [None, None]}}
    before = list(Rule.objects.values_list("slug", "version"))
    response = getattr(admin_api, method.lower())(url, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == ERROR_KEYS
    assert "数据源应为数据源代码" in response.json()["message"]
    assert list(Rule.objects.values_list("slug", "version")) == before
    assert_documented(api_schema, response, path, method)


@pytest.mark.parametrize(
    "threshold, condition_value",
    [
        ({"value": "1e999999"}, None),  # a number no money column holds
        ({"value": "9" * 40}, None),
        ({"value": "-1e-999999"}, None),  # more decimal places than anything compares at
        ({"value": "1000"}, "1e99999"),
        ({"value": "1000"}, ["1e99999", "2"]),
    ],
)
def test_numbers_beyond_what_a_rule_can_compare_are_refused(
    admin_api, api_schema, threshold, condition_value
):
    spec = {**INPATIENT_SPEC, "threshold": threshold}
    if condition_value is not None:
        op = "in" if isinstance(condition_value, list) else "ge"
        spec["conditions"] = [{"field": "out_of_pocket", "op": op, "value": condition_value}]
    for path in ("/api/rules/preview/", "/api/rules/"):
        response = admin_api.post(path, {"slug": "huge", "name": "x", "spec": spec}, format="json")
        assert response.status_code == 400, response.content[:300]
        assert "不是有效数值（整数至多 14 位，小数至多 6 位）" in response.json()["message"]
        assert_documented(api_schema, response, path, "POST")
    assert not Rule.objects.filter(slug="huge").exists()


def test_numbers_within_range_still_make_a_rule(admin_api):
    spec = {**INPATIENT_SPEC, "threshold": {"value": "99999999999999.99"}}
    spec["conditions"] = [{"field": "out_of_pocket", "op": "ge", "value": "0.000001"}]
    response = admin_api.post(
        "/api/rules/", {"slug": "wide", "name": "x", "spec": spec}, format="json"
    )
    assert response.status_code == 201, response.content[:300]


# --- ids no database holds, in bodies and query strings ------------------------------------------

HUGE_ID = 2**64


def test_a_huge_household_id_in_the_review_list_is_bad_input(cadre_api, api_schema):
    response = cadre_api.get("/api/reviews/", {"household": str(HUGE_ID)})
    assert response.status_code == 400
    assert "household" in response.json()["extra"]["fields"]
    assert_documented(api_schema, response, "/api/reviews/", "GET")


def test_a_huge_id_in_a_bulk_delivery_is_bad_input(cadre_api, api_schema):
    response = cadre_api.post(
        "/api/plan-measures/bulk-progress/",
        {"ids": [HUGE_ID], "status": "delivered", "date": "2026-11-02"},
        format="json",
    )
    assert response.status_code == 400
    assert "ids" in response.json()["extra"]["fields"]
    assert_documented(api_schema, response, "/api/plan-measures/bulk-progress/", "POST")


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/reviews/", {"household": HUGE_ID, "reviewed_on": "2026-11-02"}),
        ("/api/plans/accept/", {"household": HUGE_ID, "items": []}),
    ],
)
def test_a_huge_household_id_in_a_body_is_bad_input(cadre_api, path, body):
    response = cadre_api.post(path, body, format="json")
    assert response.status_code == 400
    assert "household" in response.json()["extra"]["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "/api/plan-measures/?household_id={v}",
        "/api/plan-measures/?measure_id={v}",
        "/api/plans/?household={v}",
    ],
)
@pytest.mark.parametrize("value", [str(HUGE_ID), "-1.7976931348623155e%2B308", "-7.5e-13"])
def test_a_plan_filter_by_an_id_no_database_holds_is_bad_input(cadre_api, api_schema, query, value):
    response = cadre_api.get(query.format(v=value))
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == ERROR_KEYS
    assert_documented(api_schema, response, query.split("?")[0], "GET")


def test_a_huge_household_id_for_proposals_is_bad_input(cadre_api):
    response = cadre_api.get("/api/plans/proposals/", {"household": str(HUGE_ID)})
    assert response.status_code == 400
    assert "household" in response.json()["extra"]["fields"]


# --- a NUL byte where a key is looked up (PostgreSQL refuses it in any query) -------------------

NUL = "5001\x0056104200"


@pytest.mark.parametrize(
    "path, url",
    [
        ("/api/meetings/agenda/", "/api/meetings/agenda/?village={v}"),
        ("/api/meetings/", "/api/meetings/?village={v}"),
        ("/api/campaigns/{id}/checks/", "/api/campaigns/{campaign}/checks/?village={v}"),
    ],
)
def test_a_nul_byte_in_a_division_code_query_is_bad_input(
    admin_api, api_schema, district_admin, path, url
):
    campaign = campaign_open(
        actor=district_admin,
        name="集中排查",
        scope=Division.objects.get(code=f.COUNTY_WULONG),
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 11, 30),
    )
    response = admin_api.get(url.format(v="5001%0056104200", campaign=campaign.pk))
    assert response.status_code == 400, response.content[:300]
    assert "village" in response.json()["extra"]["fields"]
    assert_documented(api_schema, response, path, "GET")


@pytest.mark.parametrize(
    "path, body, field",
    [
        (
            "/api/policy-values/",
            {"parameter": "monitoring_line", "value": "1", "division": NUL},
            "division",
        ),
        (
            "/api/meetings/",
            {"village": NUL, "month": "202611", "held_on": "2026-11-02", "attendees": "甲"},
            "village",
        ),
        (
            "/api/campaigns/",
            {"name": "x", "scope": NUL, "starts_on": "2026-11-01", "ends_on": "2026-11-02"},
            "scope",
        ),
        ("/api/leads/", {"channel": "media", "description": "x", "village": NUL}, "village"),
        ("/api/social-offers/", {"name": "x", "division": NUL}, "division"),
    ],
)
def test_a_nul_byte_in_a_division_code_body_is_bad_input(admin_api, path, body, field):
    response = admin_api.post(path, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["extra"]["fields"]


def test_a_nul_byte_in_a_feed_source_is_bad_input(admin_api):
    response = admin_api.post(
        "/api/feed-batches/",
        {"source": "medi\x00cal", "period": "2026-10", "file": SimpleUploadedFile("a.csv", b"x")},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    assert "source" in response.json()["extra"]["fields"]


def test_a_division_given_as_a_number_is_still_read(admin_api):
    response = admin_api.post(
        "/api/policy-values/",
        {"parameter": "monitoring_line", "value": "1", "division": 500156000000, "year": 2031},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["division"] == "500156000000"


# --- pages past the end ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "2", "abc", "-1"])
@pytest.mark.parametrize("path", ["/api/households/", "/api/rules/", "/api/reviews/missing/"])
def test_a_page_that_does_not_exist_is_bad_input(admin_api, api_schema, path, page):
    response = admin_api.get(path, {"page": page})
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert "page" in response.json()["extra"]["fields"]
    assert_documented(api_schema, response, path, "GET")


# --- the token endpoint without a peer address -------------------------------------------------


def test_a_token_request_without_a_peer_address_is_answered(api_schema):
    # In-process WSGI calls (and some proxies) leave REMOTE_ADDR out.
    response = APIClient().post("/api/auth/token/", {}, format="json", REMOTE_ADDR=None)
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"username", "password"}
    assert_documented(api_schema, response, "/api/auth/token/", "POST")


# --- case steps: a date given as a list, a body that is not an object ---------------------------


@pytest.fixture
def case_in_application(village_cadre):
    household = f.make_household()
    lead = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主住院",
    )
    return case_open(actor=village_cadre, lead=lead)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"applicant_name": "成员0", "applied_on": [None, None]}, "applied_on"),
        ({"applicant_name": "成员0", "applied_on": 20261102}, "applied_on"),
        ({"applicant_name": ["成员0"], "applied_on": "2026-11-02"}, "applicant_name"),
    ],
)
def test_a_step_record_field_of_the_wrong_type_is_bad_input(
    cadre_api, api_schema, case_in_application, body, field
):
    response = cadre_api.post(f"/api/cases/{case_in_application.pk}/apply/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["extra"]["fields"]
    assert_documented(api_schema, response, "/api/cases/{id}/apply/", "POST")
    case_in_application.refresh_from_db()
    assert case_in_application.state == "application"


def test_a_step_body_that_is_not_an_object_is_bad_input(cadre_api, case_in_application):
    response = cadre_api.post(
        f"/api/cases/{case_in_application.pk}/apply/", ["2026-11-02"], format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS


def test_a_case_before_its_proposal_matches_the_schema(cadre_api, api_schema, case_in_application):
    response = cadre_api.get(f"/api/cases/{case_in_application.pk}/")
    assert response.status_code == 200 and response.json()["proposed_category"] == ""
    assert_documented(api_schema, response, "/api/cases/{id}/", "GET")
    listed = cadre_api.get("/api/cases/")
    assert_documented(api_schema, listed, "/api/cases/", "GET")


# --- answers that were right but undocumented ---------------------------------------------------


def test_a_body_in_a_format_the_operation_does_not_read_is_documented(cadre_api, api_schema):
    response = cadre_api.post("/api/households/find/", "id", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.json()) == ERROR_KEYS
    assert_documented(api_schema, response, "/api/households/find/", "POST")


def test_records_named_outside_the_area_are_a_documented_404(cadre_api, api_schema):
    elsewhere = f.make_household(f.VILLAGE_B)
    answers = [
        (
            cadre_api.get("/api/meetings/agenda/", {"village": f.VILLAGE_B}),
            "/api/meetings/agenda/",
            "GET",
        ),
        (
            cadre_api.get("/api/plans/proposals/", {"household": elsewhere.pk}),
            "/api/plans/proposals/",
            "GET",
        ),
        (
            cadre_api.post(
                "/api/reviews/",
                {
                    "household": elsewhere.pk,
                    "reviewed_on": "2026-11-02",
                    "risk_present": False,
                    "plan_needs_change": False,
                    "reviewers": "冉光明",
                },
                format="json",
            ),
            "/api/reviews/",
            "POST",
        ),
    ]
    for response, path, method in answers:
        assert response.status_code == 404, (path, response.content[:200])
        assert_documented(api_schema, response, path, method)


def test_the_served_schema_documents_every_error_answer(api_schema):
    for path, item in api_schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = set(operation["responses"])
            assert "400" in codes, (method, path)
            if "requestBody" in operation:
                assert "415" in codes, (method, path)
