import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

EXPECTED_OPERATIONS = {
    "/api/auth/token/": {"post"},
    "/api/divisions/": {"get"},
    "/api/divisions/{code}/": {"get"},
    "/api/households/": {"get", "post"},
    "/api/households/{id}/": {"get", "put", "patch", "delete"},
    "/api/households/{id}/reveal-phone/": {"post"},
    "/api/households/find/": {"post"},
    "/api/members/find/": {"post"},
    "/api/members/": {"get", "post"},
    "/api/members/{id}/": {"get", "put", "patch", "delete"},
    "/api/members/{id}/reveal/": {"post"},
    "/api/feed-sources/": {"get"},
    "/api/feed-sources/{slug}/": {"get", "patch"},
    "/api/feed-sources/{slug}/template/": {"get"},
    "/api/feed-batches/": {"get", "post"},
    "/api/feed-batches/{id}/": {"get", "delete"},
    "/api/feed-batches/{id}/rejects/": {"get"},
    "/api/rules/": {"get", "post"},
    "/api/rules/preview/": {"post"},
    "/api/rules/{slug}/": {"get", "put", "patch"},
    "/api/rules/{slug}/preview/": {"post"},
    "/api/rules/{slug}/versions/": {"get"},
    "/api/screening-runs/": {"get", "post"},
    "/api/screening-runs/{id}/": {"get"},
    "/api/alerts/": {"get"},
    "/api/alerts/{id}/": {"get"},
    "/api/alerts/{id}/dismiss/": {"post"},
    "/api/alerts/{id}/assign/": {"post"},
    "/api/alerts/{id}/open-lead/": {"post"},
    "/api/alerts/{id}/assignees/": {"get"},
    "/api/alerts/{id}/evidence/": {"get"},
    "/api/policy-values/": {"get", "post"},
    "/api/policy-values/{id}/": {"get", "put", "patch", "delete"},
    "/api/leads/": {"get", "post"},
    "/api/leads/{id}/": {"get"},
    "/api/leads/{id}/close/": {"post"},
    "/api/leads/{id}/open-case/": {"post"},
    "/api/cases/": {"get", "post"},
    "/api/cases/{id}/": {"get"},
    "/api/cases/{id}/transitions/": {"get"},
    "/api/cases/{id}/attachments/": {"get", "post"},
    # One action per workflow verb (cases.choices.CaseVerb).
    **{
        f"/api/cases/{{id}}/{verb}/": {"post"}
        for verb in (
            "apply",
            "nominate",
            "verify",
            "review",
            "review-reject",
            "object",
            "close-notice",
            "township-approve",
            "township-return",
            "township-reject",
            "approve",
            "district-return",
            "reject",
            "withdraw",
        )
    },
    "/api/meetings/": {"get", "post"},
    "/api/meetings/{id}/": {"get", "patch"},
    "/api/meetings/agenda/": {"get"},
    "/api/meetings/missing/": {"get"},
    "/api/reviews/": {"get", "post"},
    "/api/reviews/{id}/": {"get"},
    "/api/reviews/missing/": {"get"},
    "/api/campaigns/": {"get", "post"},
    "/api/campaigns/{id}/": {"get"},
    "/api/campaigns/{id}/checks/": {"get", "post"},
    "/api/campaigns/{id}/progress/": {"get"},
    "/api/measure-groups/": {"get", "post"},
    "/api/measure-groups/{id}/": {"get", "patch"},
    "/api/measures/": {"get", "post"},
    "/api/measures/{id}/": {"get", "patch"},
    "/api/recommendation-rules/": {"get", "post"},
    "/api/recommendation-rules/{id}/": {"get", "put", "patch", "delete"},
    "/api/plans/": {"get"},
    "/api/plans/{id}/": {"get"},
    "/api/plans/proposals/": {"get"},
    "/api/plans/accept/": {"post"},
    "/api/plan-measures/": {"get"},
    "/api/plan-measures/{id}/": {"get", "patch"},
    "/api/plan-measures/{id}/progress/": {"post"},
    "/api/plan-measures/bulk-progress/": {"post"},
    "/api/social-offers/": {"get", "post"},
    "/api/social-offers/{id}/": {"get", "put", "patch"},
    "/api/social-offers/{id}/propose/": {"post"},
    "/api/social-offers/{id}/close/": {"post"},
    "/api/social-matches/": {"get"},
    "/api/social-matches/{id}/": {"get"},
    "/api/social-matches/{id}/confirm/": {"post"},
    "/api/social-matches/{id}/decline/": {"post"},
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    """The schema as the command writes it: validated against OpenAPI 3, and no warning allowed."""
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(path),
    )
    return json.loads(path.read_text())


def test_every_endpoint_is_documented(schema):
    operations = {path: set(item) - {"parameters"} for path, item in schema["paths"].items()}
    assert operations == EXPECTED_OPERATIONS


def test_household_filters_are_documented(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/households/"]["get"]["parameters"]}
    assert {
        "q",
        "township",
        "village",
        "household_type",
        "monitoring_category",
        "monitoring_status",
        "risk_type",
        "labour",
        "grid_member_id",
        "page",
        "page_size",
    } <= parameters


def test_full_numbers_are_write_only(schema):
    components = schema["components"]["schemas"]
    assert "phone" not in components["Household"]["properties"]
    assert "phone" in components["HouseholdRequest"]["properties"]
    assert "id_number" not in components["Member"]["properties"]
    assert components["MemberRequest"]["required"].count("id_number") == 1
    assert "id_number" not in components["MemberUpdateRequest"].get("required", [])


def test_reveal_actions_and_errors_are_documented(schema):
    reveal = schema["paths"]["/api/members/{id}/reveal/"]["post"]
    assert "requestBody" not in reveal
    assert reveal["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/RevealedIdNumber"
    )
    for code in ("400", "401", "403", "404"):
        assert reveal["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/Error"
        )
    token = schema["paths"]["/api/auth/token/"]["post"]
    assert "401" not in token["responses"]
    assert not token.get("security")


def test_schema_is_served(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/households/" in response.json()["paths"]
