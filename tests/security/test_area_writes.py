"""Writes stay in the actor's area once their subject is resolved, and refusals say nothing
about records outside it (issue: writes in another area, oracles outside the area)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shouwang.cases.models import Lead
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.registry.models import Member
from shouwang.registry.services import household_reveal_phone, member_reveal_id_number
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere():
    """A household of another township, with a member whose ID number the caller knows."""
    household = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=0)
    id_number = f.next_id_number()
    f.make_member(household, id_number=id_number, name="外村人")
    household.refresh_from_db()
    return household, id_number


def test_a_lead_on_a_person_registered_elsewhere_is_refused_and_not_saved(cadre_api, elsewhere):
    household, id_number = elsewhere
    response = cadre_api.post(
        "/api/leads/",
        {
            "channel": "home_visit",
            "person_name": "x",
            "id_number": id_number,
            "village": f.VILLAGE_A,
            "description": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "管辖范围以外" in body
    assert household.household_number not in body and "外村人" not in body
    assert not Lead.objects.exists()


def test_the_lead_page_refuses_the_same_way(client, village_cadre, elsewhere):
    household, id_number = elsewhere
    client.force_login(village_cadre)
    response = client.post(
        reverse("leads:lead_create"),
        {
            "received_on": "2026-11-02",
            "channel": "home_visit",
            "person_name": "x",
            "id_number": id_number,
            "village": f.VILLAGE_A,
            "description": "x",
        },
    )
    assert response.status_code == 200
    assert "管辖范围以外" in response.content.decode()
    assert household.household_number not in response.content.decode()
    assert not Lead.objects.exists()


def test_adding_a_member_with_an_id_registered_elsewhere_names_no_household(cadre_api, elsewhere):
    household, id_number = elsewhere
    mine = f.make_household(f.VILLAGE_A)
    response = cadre_api.post(
        "/api/members/",
        {
            "household": mine.pk,
            "name": "李四",
            "id_number": id_number,
            "relation": "son",
            "education": "junior",
            "labour_skill": "ordinary",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "管辖范围以外" in body and household.household_number not in body
    assert Member.objects.filter(household=mine).count() == 2


def test_a_clash_inside_the_area_still_names_the_household(cadre_api):
    other = f.make_household(f.VILLAGE_A, members=0)
    id_number = f.next_id_number()
    f.make_member(other, id_number=id_number)
    mine = f.make_household(f.VILLAGE_A)
    response = cadre_api.post(
        "/api/members/",
        {
            "household": mine.pk,
            "name": "李四",
            "id_number": id_number,
            "relation": "son",
            "education": "junior",
            "labour_skill": "ordinary",
        },
        format="json",
    )
    assert response.status_code == 400
    assert other.household_number in response.content.decode()


def test_a_denied_reveal_is_audited(village_cadre):
    household = f.make_household(f.VILLAGE_A)
    member = household.members.first()
    with pytest.raises(PermissionDenied):
        member_reveal_id_number(actor=village_cadre, member=member)
    with pytest.raises(PermissionDenied):
        household_reveal_phone(actor=village_cadre, household=household)
    denied = AuditEvent.objects.filter(action="reveal_denied", actor=village_cadre)
    assert sorted(e.extra["field"] for e in denied) == ["id_number", "phone"]
