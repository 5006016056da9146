import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouwang.core.idnumber import make_id_number
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as c
from shouwang.registry.models import Member
from tests import factories as f

pytestmark = pytest.mark.django_db

#: Birth dates the factories never use, so these numbers are unique in every test.
LI_SI_ID = make_id_number("500156", dt.date(1968, 11, 2), 24)  # even sequence: female
ZHAO_WU_ID = make_id_number("500156", dt.date(1992, 7, 30), 37)


def new_member_payload(household, **overrides):
    payload = {
        "household": household.pk,
        "name": "李四",
        "id_number": LI_SI_ID,
        "relation": "spouse",
        "education": "junior",
        "labour_skill": "ordinary",
        "employment_status": "outside_province",
        "months_employed": 10,
    }
    payload.update(overrides)
    return payload


# --- jurisdiction -----------------------------------------------------------------------------


def test_village_cadre_lists_only_own_village_members(cadre_api):
    own = f.make_household(f.VILLAGE_A, members=2)
    f.make_household(f.VILLAGE_B, members=2)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    body = cadre_api.get("/api/members/").json()
    assert body["count"] == 2
    assert {row["household"] for row in body["results"]} == {own.pk}


@pytest.mark.parametrize("village", [f.VILLAGE_B, f.VILLAGE_OTHER_TOWNSHIP])
def test_another_villages_member_is_a_404_for_every_verb(api_client_for, village_cadre, village):
    # Even with the reveal permission, the other village stays out of reach.
    village_cadre.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    client = api_client_for(village_cadre)
    member = f.make_household(village, members=1).members.get()
    url = f"/api/members/{member.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"labour_skill": "weak"}, format="json").status_code == 404
    assert client.put(url, new_member_payload(member.household), format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.post(f"{url}reveal/").status_code == 404
    member.refresh_from_db()
    assert member.labour_skill == c.LabourSkill.ORDINARY
    assert not AuditEvent.objects.filter(
        target_type="registry.member", action__in=["update", "delete", "reveal"]
    )


def test_member_cannot_be_added_to_another_villages_household(cadre_api):
    other = f.make_household(f.VILLAGE_B, members=0)
    response = cadre_api.post("/api/members/", new_member_payload(other), format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["household"]
    assert not Member.objects.exists()


# --- create, update, delete -------------------------------------------------------------------


def test_create_household_then_member_via_api(cadre_api, village_cadre):
    household_response = cadre_api.post(
        "/api/households/",
        {
            "household_number": "H-API-1",
            "village": f.VILLAGE_A,
            "household_type": "poverty_exited",
            "income_year": 2025,
            "wage_income": "36000",
        },
        format="json",
    )
    assert household_response.status_code == 201, household_response.json()
    household_id = household_response.json()["id"]

    head = {
        "household": household_id,
        "name": "赵五",
        "id_number": ZHAO_WU_ID,
        "relation": "head",
        "education": "senior",
        "labour_skill": "skilled",
    }
    response = cadre_api.post("/api/members/", head, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["household"] == household_id
    assert body["sex"] == "male"
    assert body["birth_date"] == "1992-07-30"
    assert body["id_number_masked"] == ZHAO_WU_ID[:6] + "********" + ZHAO_WU_ID[-4:]
    assert "id_number" not in body

    detail = cadre_api.get(f"/api/households/{household_id}/").json()
    assert detail["member_count"] == 1
    assert detail["head_name"] == "赵五"
    assert detail["per_capita_net_income"] == "36000.00"
    events = AuditEvent.objects.filter(actor=village_cadre, action="create")
    assert sorted(events.values_list("target_type", flat=True)) == [
        "registry.household",
        "registry.member",
    ]
    member_event = events.get(target_type="registry.member")
    assert member_event.subject == f"registry.household:{household_id}"
    assert ZHAO_WU_ID not in str(member_event.after)


@pytest.mark.parametrize(
    ("id_number", "reason"),
    [
        ("5.00156E+17", "科学计数法"),
        ("50015619800517", "应为 18 位"),
        (LI_SI_ID[:-1] + ("0" if LI_SI_ID[-1] != "0" else "1"), "校验位"),
    ],
)
def test_invalid_id_number_is_a_400_with_the_reason(cadre_api, id_number, reason):
    household = f.make_household(f.VILLAGE_A, members=0)
    response = cadre_api.post(
        "/api/members/", new_member_payload(household, id_number=id_number), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    [message] = body["extra"]["fields"]["id_number"]
    assert reason in message
    assert not Member.objects.exists()


def test_id_number_registered_elsewhere_is_refused(cadre_api):
    first = f.make_household(f.VILLAGE_A, members=0)
    f.make_member(first, id_number=LI_SI_ID)
    second = f.make_household(f.VILLAGE_A, members=0)
    response = cadre_api.post("/api/members/", new_member_payload(second), format="json")
    assert response.status_code == 400
    assert first.household_number in response.json()["extra"]["fields"]["id_number"][0]


def test_update_keeps_household_and_id_number_unless_given(cadre_api, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=1)
    member = household.members.get()
    masked = member.id_number_masked
    other = f.make_household(f.VILLAGE_A, members=0)
    response = cadre_api.patch(
        f"/api/members/{member.pk}/",
        {
            "labour_skill": "weak",
            "household": other.pk,
            "employment_status": "inside_county",
            "months_employed": 6,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["labour_skill"] == "weak"
    assert body["household"] == household.pk
    assert body["id_number_masked"] == masked
    event = AuditEvent.objects.get(action="update", target_type="registry.member")
    assert event.actor == village_cadre
    assert event.after["months_employed"] == 6

    response = cadre_api.patch(f"/api/members/{member.pk}/", {"id_number": LI_SI_ID}, format="json")
    assert response.status_code == 200
    assert response.json()["sex"] == "female"
    assert response.json()["birth_date"] == "1968-11-02"


def test_service_rules_come_back_as_field_errors(cadre_api):
    member = f.make_household(f.VILLAGE_A, members=1).members.get()
    response = cadre_api.patch(f"/api/members/{member.pk}/", {"months_employed": 3}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["months_employed"] == ["未务工人员的务工时间应为 0"]


def test_delete_member_refreshes_the_household(cadre_api, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=2)
    son = household.members.get(relation=c.Relation.SON)
    assert cadre_api.delete(f"/api/members/{son.pk}/").status_code == 204
    household.refresh_from_db()
    assert household.member_count == 1
    assert AuditEvent.objects.filter(
        action="delete", actor=village_cadre, target_id=str(son.pk)
    ).exists()


def test_department_officer_cannot_add_members(api_client_for, department_officer):
    household = f.make_household(f.VILLAGE_A, members=0)
    response = api_client_for(department_officer).post(
        "/api/members/", new_member_payload(household), format="json"
    )
    assert response.status_code == 403
    assert not Member.objects.exists()


# --- the ID number on display, and revealing it -----------------------------------------------


def test_list_and_detail_show_only_the_masked_id(cadre_api):
    household = f.make_household(f.VILLAGE_A, members=0)
    member = f.make_member(household, id_number=LI_SI_ID, name="李四")
    texts = [
        cadre_api.get("/api/members/").content.decode(),
        cadre_api.get(f"/api/members/{member.pk}/").content.decode(),
        cadre_api.get(f"/api/households/{household.pk}/").content.decode(),
    ]
    for text in texts:
        assert LI_SI_ID not in text
        assert member.id_number_encrypted not in text
        assert "aes-256-gcm:" not in text
        assert member.id_number_index not in text
        assert member.id_number_masked in text


def test_reveal_needs_the_permission(cadre_api):
    member = f.make_household(f.VILLAGE_A, members=1).members.get()
    response = cadre_api.post(f"/api/members/{member.pk}/reveal/")
    assert response.status_code == 403
    assert response.json() == {
        "message": "您没有查看完整身份证号码的权限",
        "code": "permission_denied",
        "extra": {},
    }
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_reveal_with_the_permission_returns_the_number_and_is_audited(
    api_client_for, village_cadre
):
    village_cadre.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    household = f.make_household(f.VILLAGE_A, members=0)
    member = f.make_member(household, id_number=LI_SI_ID)
    response = api_client_for(village_cadre).post(f"/api/members/{member.pk}/reveal/")
    assert response.status_code == 200
    assert response.json() == {"id_number": LI_SI_ID}
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.target_id, event.extra) == (
        village_cadre,
        str(member.pk),
        {"field": "id_number"},
    )


# --- filters and query count ------------------------------------------------------------------


def test_member_filters(district_api):
    household = f.make_household(f.VILLAGE_A, members=0)
    li = f.make_member(
        household,
        id_number=LI_SI_ID,
        name="李四",
        relation=c.Relation.HEAD,
        labour_skill=c.LabourSkill.WEAK,
    )
    far = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=0)
    zhao = f.make_member(
        far, id_number=ZHAO_WU_ID, name="赵五", health_status=c.HealthStatus.CHRONIC
    )

    def ids(**query):
        response = district_api.get("/api/members/", query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {li.pk, zhao.pk}
    assert ids(household_id=household.pk) == {li.pk}
    assert ids(village=f.VILLAGE_OTHER_TOWNSHIP) == {zhao.pk}
    assert ids(township="500156104000") == {li.pk}
    assert ids(name="赵") == {zhao.pk}
    found = district_api.post("/api/members/find/", {"id_number": LI_SI_ID}).json()
    assert [row["id"] for row in found] == [li.pk]
    assert district_api.get("/api/members/", {"name": LI_SI_ID}).status_code == 400
    assert ids(labour_skill="weak") == {li.pk}
    assert ids(health_status="chronic") == {zhao.pk}
    assert ids(sex="female") == {li.pk}


def test_member_list_query_count_does_not_grow_with_rows(district_api):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = district_api.get("/api/members/")
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    for _ in range(3):
        f.make_household(f.VILLAGE_A, members=2)
    few, count = count_queries()
    assert count == 6
    for _ in range(12):
        f.make_household(f.VILLAGE_B, members=2)
    many, count = count_queries()
    assert count == 30
    assert many == few == 4
