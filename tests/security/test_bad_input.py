"""Bad input answers 400 with the one error body (or an ignored filter on a page), never a
server error: ids no database can hold, a selector that filters on an annotation it did not
add, a refusal from a service behind a page, an API path that matches no route."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shouwang.cases.choices import LeadChannel
from shouwang.cases.services import case_open, lead_create
from shouwang.registry.models import Household
from tests import factories as f

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # above 2**63
HUGE_FLOAT = "-3.57e%2B59"

#: Every page and API list that filters by a record's id.
ID_FILTERS = [
    "/cases/?household={v}",
    "/leads/?household={v}",
    "/screening/alerts/?household={v}",
    "/screening/alerts/?run={v}",
    "/assistance/overdue/?household={v}",
    "/social/matches/?household={v}",
    "/social/matches/?offer={v}",
    "/households/?grid_member_id={v}",
    "/api/cases/?household={v}",
    "/api/leads/?household={v}",
    "/api/alerts/?household={v}",
    "/api/alerts/?run={v}",
    "/api/alerts/?rule={v}",
    "/api/social-matches/?household={v}",
    "/api/social-matches/?offer={v}",
    "/api/households/?grid_member_id={v}",
    "/api/members/?household_id={v}",
    "/api/plan-measures/?group={v}",
]


@pytest.mark.parametrize("value", [HUGE, HUGE_FLOAT, "-1", "abc"])
@pytest.mark.parametrize("template", ID_FILTERS)
def test_an_id_no_database_holds_is_bad_input_not_a_server_error(
    client, district_admin, template, value
):
    client.force_login(district_admin)
    response = client.get(template.format(v=value))
    if template.startswith("/api/"):
        assert response.status_code == 400, response.content[:300]
        body = response.json()
        assert set(body) == {"message", "code", "extra"}
    else:
        assert response.status_code == 200


def test_missing_reviews_for_a_department_officer_is_an_empty_page(department_officer):
    client = APIClient()
    client.force_authenticate(department_officer)
    response = client.get("/api/reviews/missing/")
    assert response.status_code == 200 and response.json()["results"] == []


def test_deleting_a_household_with_a_case_says_why_on_the_page(client, village_cadre):
    household = f.make_household()
    lead = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主住院",
    )
    case_open(actor=village_cadre, lead=lead)
    client.force_login(village_cadre)
    response = client.post(reverse("registry:household_delete", args=[household.pk]))
    assert response.status_code == 400
    assert "不能删除" in response.content.decode()
    assert Household.objects.filter(pk=household.pk).exists()


def test_an_api_path_that_matches_no_route_answers_json(district_admin):
    client = APIClient()
    client.force_authenticate(district_admin)
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "未找到。", "code": "not_found", "extra": {}}
