import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouwang.core.idnumber import make_id_number
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as c
from shouwang.registry.models import Household, Member
from tests import factories as f

pytestmark = pytest.mark.django_db

MONITORED = {
    "household_type": c.HouseholdType.MONITORED,
    "monitoring_category": c.MonitoringCategory.MARGINAL,
    "monitoring_status": c.MonitoringStatus.RISK_UNRESOLVED,
    "identified_month": "202403",
    "risk_type_1": c.RiskType.ILLNESS,
}
#: A birth date the factories never use, so the number is unique in every test.
WANG_DASHAN_ID = make_id_number("500156", dt.date(1975, 3, 8), 13)


def new_household_payload(**overrides):
    payload = {
        "household_number": "5001561042000001",
        "village": f.VILLAGE_A,
        "household_type": "monitored",
        "monitoring_category": "marginal",
        "monitoring_status": "risk_unresolved",
        "identified_month": "202405",
        "risk_types": ["illness", "schooling"],
        "phone": "13812345678",
        "income_year": 2025,
        "wage_income": "24000.00",
        "productive_expenses": "4000",
    }
    payload.update(overrides)
    return payload


# --- jurisdiction -----------------------------------------------------------------------------


def test_village_cadre_lists_only_own_village(cadre_api):
    own = f.make_household(f.VILLAGE_A)
    f.make_household(f.VILLAGE_B)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP)
    body = cadre_api.get("/api/households/").json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [own.pk]
    assert body["results"][0]["village"] == f.VILLAGE_A


def test_township_staff_sees_the_township(api_client_for, township_staff):
    f.make_household(f.VILLAGE_A)
    f.make_household(f.VILLAGE_B)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP)
    body = api_client_for(township_staff).get("/api/households/").json()
    assert {row["village"] for row in body["results"]} == {f.VILLAGE_A, f.VILLAGE_B}


@pytest.mark.parametrize("village", [f.VILLAGE_B, f.VILLAGE_OTHER_TOWNSHIP])
def test_another_villages_household_is_a_404_for_every_verb(cadre_api, village):
    other = f.make_household(village)
    url = f"/api/households/{other.pk}/"
    assert cadre_api.get(url).status_code == 404
    assert cadre_api.patch(url, {"wage_income": "1"}, format="json").status_code == 404
    assert (
        cadre_api.put(url, new_household_payload(village=village), format="json").status_code == 404
    )
    assert cadre_api.delete(url).status_code == 404
    assert cadre_api.post(f"{url}reveal-phone/").status_code == 404
    other.refresh_from_db()
    assert other.wage_income == Decimal("30000.00")
    assert not AuditEvent.objects.filter(
        target_type="registry.household", action__in=["update", "delete", "reveal"]
    )


def test_404_body_has_the_error_shape(cadre_api):
    response = cadre_api.get("/api/households/999999/")
    assert response.status_code == 404
    assert response.json() == {"message": "未找到。", "code": "not_found", "extra": {}}


def test_cadre_cannot_move_a_household_out_of_the_area(cadre_api):
    household = f.make_household(f.VILLAGE_A)
    response = cadre_api.patch(
        f"/api/households/{household.pk}/", {"village": f.VILLAGE_B}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    household.refresh_from_db()
    assert household.village_id == f.VILLAGE_A


# --- create, read, update, delete -------------------------------------------------------------


def test_create_household_calls_the_service_and_is_audited(cadre_api, village_cadre):
    response = cadre_api.post("/api/households/", new_household_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    household = Household.objects.get(pk=body["id"])
    assert household.risk_type_1 == "illness" and household.risk_type_2 == "schooling"
    assert household.risk_type_3 == ""
    assert body["risk_types"] == ["illness", "schooling"]
    assert body["phone_masked"] == "138****5678"
    assert "phone" not in body
    assert body["village_name"] == household.village.name
    assert body["township_name"] == "火炉镇"
    assert body["household_type_display"] == "监测户"
    assert body["monitoring_category_display"] == "边缘易致贫户"
    assert body["monitoring_status_display"] == "风险未消除"
    event = AuditEvent.objects.get(action="create", target_type="registry.household")
    assert event.actor == village_cadre
    assert event.target_id == str(household.pk)


def test_business_rules_come_back_as_field_errors(cadre_api):
    payload = new_household_payload(risk_types=[], identified_month="")
    response = cadre_api.post("/api/households/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    # Reported under the API's field name, not the model's risk_type_1.
    assert body["extra"]["fields"]["risk_types"] == ["已纳入监测的农户至少填写一项致贫/返贫风险"]
    assert body["extra"]["fields"]["identified_month"] == ["已纳入监测的农户必须填写识别监测时间"]
    assert not Household.objects.exists()


def test_repeated_risk_type_is_refused_under_risk_types(cadre_api):
    response = cadre_api.post(
        "/api/households/", new_household_payload(risk_types=["illness", "illness"]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["risk_types"] == ["致贫/返贫风险不能重复"]


def test_more_than_five_risk_types_is_a_type_error(cadre_api):
    risks = ["illness", "disability", "schooling", "housing", "accident", "other"]
    response = cadre_api.post(
        "/api/households/", new_household_payload(risk_types=risks), format="json"
    )
    assert response.status_code == 400
    assert "risk_types" in response.json()["extra"]["fields"]


def test_duplicate_household_number_is_refused(cadre_api):
    existing = f.make_household(f.VILLAGE_A)
    payload = new_household_payload(household_number=existing.household_number)
    response = cadre_api.post("/api/households/", payload, format="json")
    assert response.status_code == 400
    assert "household_number" in response.json()["extra"]["fields"]


def test_creating_in_another_village_is_forbidden(cadre_api):
    response = cadre_api.post(
        "/api/households/", new_household_payload(village=f.VILLAGE_B), format="json"
    )
    assert response.status_code == 403
    assert response.json()["message"] == "该行政村不在您的管辖范围内"
    assert not Household.objects.exists()


def test_department_officer_cannot_create(api_client_for, department_officer):
    response = api_client_for(department_officer).post(
        "/api/households/", new_household_payload(), format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "message": "您的角色不能修改农户档案",
        "code": "permission_denied",
        "extra": {},
    }
    assert not Household.objects.exists()


def test_detail_has_members_with_masked_ids(cadre_api):
    household = f.make_household(f.VILLAGE_A, members=2)
    body = cadre_api.get(f"/api/households/{household.pk}/").json()
    assert body["member_count"] == 2
    assert body["head_name"] == "成员0"
    assert [m["name"] for m in body["members"]] == ["成员0", "成员1"]
    assert body["members"][0]["relation_display"] == "户主"
    for member, row in zip(household.members.order_by("id"), body["members"], strict=True):
        assert row["id_number_masked"] == member.id_number_masked
        assert "*" in row["id_number_masked"]
        assert "id_number" not in row


def test_partial_update_goes_through_the_service(cadre_api, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=2)
    response = cadre_api.patch(
        f"/api/households/{household.pk}/",
        {"productive_expenses": "7000", "phone": "02377123456"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # (30000 + 5000 + 2000 - 7000) / 2, recomputed by household_update
    assert body["per_capita_net_income"] == "15000.00"
    assert body["phone_masked"] == "023****3456"
    event = AuditEvent.objects.get(action="update", target_type="registry.household")
    assert event.actor == village_cadre
    assert event.before["productive_expenses"] == "0.00"
    assert event.after["productive_expenses"] == "7000.00"


def test_full_update_keeps_the_household_number_valid(cadre_api):
    household = f.make_household(f.VILLAGE_A, members=1)
    payload = new_household_payload(
        household_number=household.household_number, village=f.VILLAGE_A
    )
    response = cadre_api.put(f"/api/households/{household.pk}/", payload, format="json")
    assert response.status_code == 200, response.json()
    household.refresh_from_db()
    assert household.monitoring_category == c.MonitoringCategory.MARGINAL
    assert household.risk_types == ["illness", "schooling"]
    # Omitted optional fields keep their values (operating 5000, transfer 2000): 24000 + 7000 - 4000
    assert household.per_capita_net_income == Decimal("27000.00")


def test_partial_update_without_risk_types_keeps_them(cadre_api):
    household = f.make_household(f.VILLAGE_A, **{**MONITORED, "risk_type_2": c.RiskType.SCHOOLING})
    response = cadre_api.patch(
        f"/api/households/{household.pk}/", {"wage_income": "1000"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["risk_types"] == ["illness", "schooling"]
    response = cadre_api.patch(
        f"/api/households/{household.pk}/", {"risk_types": ["housing"]}, format="json"
    )
    assert response.status_code == 200
    household.refresh_from_db()
    assert household.risk_types == ["housing"]


def test_delete_removes_household_and_members_with_audit(cadre_api, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=2)
    response = cadre_api.delete(f"/api/households/{household.pk}/")
    assert response.status_code == 204
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Member.objects.filter(household_id=household.pk).exists()
    deletions = AuditEvent.objects.filter(action="delete", actor=village_cadre)
    assert sorted(deletions.values_list("target_type", flat=True)) == [
        "registry.household",
        "registry.member",
        "registry.member",
    ]


def test_department_officer_can_read_but_not_delete(api_client_for, department_officer):
    household = f.make_household(f.VILLAGE_A)
    client = api_client_for(department_officer)
    assert client.get(f"/api/households/{household.pk}/").status_code == 200
    assert client.delete(f"/api/households/{household.pk}/").status_code == 403
    assert Household.objects.filter(pk=household.pk).exists()


# --- revealing the phone number ---------------------------------------------------------------


def test_reveal_phone_needs_permission(cadre_api):
    household = f.make_household(f.VILLAGE_A, phone="13912345678")
    response = cadre_api.post(f"/api/households/{household.pk}/reveal-phone/")
    assert response.status_code == 403
    assert response.json()["message"] == "您没有查看完整电话号码的权限"
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_reveal_phone_is_audited(api_client_for, district_admin):
    household = f.make_household(f.VILLAGE_A, phone="13912345678")
    response = api_client_for(district_admin).post(f"/api/households/{household.pk}/reveal-phone/")
    assert response.status_code == 200
    assert response.json() == {"phone": "13912345678"}
    event = AuditEvent.objects.get(action="reveal")
    assert event.actor == district_admin
    assert event.extra == {"field": "phone"}


def test_listing_never_shows_the_full_phone(cadre_api):
    household = f.make_household(f.VILLAGE_A, phone="13912345678")
    text = cadre_api.get("/api/households/").content.decode()
    assert "13912345678" not in text
    assert household.phone_encrypted not in text
    assert "139****5678" in text


# --- filters and pagination -------------------------------------------------------------------


@pytest.fixture
def households_to_filter():
    """Named households covering every filter of HouseholdFilterSet."""
    plain = f.make_household(f.VILLAGE_A, members=0)
    f.make_member(plain, name="王大山", id_number=WANG_DASHAN_ID, labour_skill=c.LabourSkill.NONE)
    monitored = f.make_household(f.VILLAGE_A, members=0, **MONITORED)
    f.make_member(monitored, name="李小河", labour_skill=c.LabourSkill.SKILLED)
    neighbour = f.make_household(f.VILLAGE_B, household_type=c.HouseholdType.ORDINARY, members=0)
    f.make_member(neighbour, name="赵春", labour_skill=c.LabourSkill.WEAK)
    far = f.make_household(
        f.VILLAGE_OTHER_TOWNSHIP,
        members=1,
        **{
            **MONITORED,
            "household_type": c.HouseholdType.POVERTY_EXITED,
            "monitoring_category": c.MonitoringCategory.UNSTABLE_EXITED,
            "monitoring_status": c.MonitoringStatus.RISK_ELIMINATED,
            "eliminated_month": "202501",
            "elimination_method": c.EliminationMethod.ASSISTED,
            "risk_type_1": c.RiskType.HOUSING,
        },
    )
    return {"plain": plain, "monitored": monitored, "neighbour": neighbour, "far": far}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"plain", "monitored", "neighbour", "far"}),
        ({"township": "500156104000"}, {"plain", "monitored", "neighbour"}),
        ({"township": "500156001"}, {"far"}),
        ({"village": f.VILLAGE_B}, {"neighbour"}),
        ({"household_type": "poverty_exited"}, {"plain", "far"}),
        ({"household_type": "ordinary"}, {"neighbour"}),
        ({"monitoring_category": "marginal"}, {"monitored"}),
        ({"monitoring_status": "risk_eliminated"}, {"far"}),
        ({"monitoring_status": "not_monitored"}, {"plain", "neighbour"}),
        ({"risk_type": "illness"}, {"monitored"}),
        ({"risk_type": "housing"}, {"far"}),
        ({"labour": "skilled"}, {"monitored"}),
        ({"labour": "weak"}, {"neighbour"}),
        ({"q": "大山"}, {"plain"}),
        ({"q": "李小河"}, {"monitored"}),
        ({"household_type": "poverty_exited", "township": "500156104"}, {"plain"}),
    ],
)
def test_filters_work_through_the_api(district_api, households_to_filter, query, expected):
    response = district_api.get("/api/households/", query)
    assert response.status_code == 200
    by_id = {household.pk: key for key, household in households_to_filter.items()}
    assert {by_id[row["id"]] for row in response.json()["results"]} == expected


def test_grid_member_filter(district_api, village_cadre):
    assigned = f.make_household(f.VILLAGE_A, grid_member=village_cadre)
    f.make_household(f.VILLAGE_A)
    body = district_api.get("/api/households/", {"grid_member_id": village_cadre.pk}).json()
    assert [row["id"] for row in body["results"]] == [assigned.pk]
    assert body["results"][0]["grid_member"] == village_cadre.pk


def test_filters_do_not_reach_outside_the_area(cadre_api, households_to_filter):
    body = cadre_api.get("/api/households/", {"village": f.VILLAGE_B}).json()
    assert body["count"] == 0
    body = cadre_api.get("/api/households/", {"q": "赵春"}).json()
    assert body["count"] == 0


def test_invalid_filter_value_is_a_400(district_api):
    response = district_api.get("/api/households/", {"household_type": "nonsense"})
    assert response.status_code == 400
    assert "household_type" in response.json()["extra"]["fields"]


def test_pagination(district_api):
    for _ in range(7):
        f.make_household(f.VILLAGE_A, members=0)
    first = district_api.get("/api/households/", {"page_size": 3}).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"] and "page_size=3" in first["next"]
    last = district_api.get("/api/households/", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    numbers = [row["household_number"] for row in first["results"]]
    assert numbers == sorted(numbers)


def test_list_query_count_does_not_grow_with_rows(district_api):
    # A grid member whose area covers every village used below.
    grid_member = f.make_user("grid-county", divisions=[f.COUNTY_WULONG])

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = district_api.get("/api/households/")
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    for i in range(5):
        f.make_household(
            f.VILLAGE_A if i % 2 else f.VILLAGE_OTHER_TOWNSHIP, grid_member=grid_member
        )
    few, count = count_queries()
    assert count == 5
    for i in range(25):
        f.make_household(
            f.VILLAGE_B if i % 2 else f.VILLAGE_OTHER_TOWNSHIP, grid_member=grid_member
        )
    many, count = count_queries()
    assert count == 30
    assert many == few
    # token, the user's divisions, the count and the page
    assert few == 4


def test_an_id_number_is_looked_up_by_post_never_in_the_url(district_api, households_to_filter):
    refused = district_api.get("/api/households/", {"q": WANG_DASHAN_ID})
    assert refused.status_code == 400
    assert "不能放在网址中" in refused.json()["extra"]["fields"]["q"][0]
    found = district_api.post("/api/households/find/", {"id_number": WANG_DASHAN_ID})
    assert [row["id"] for row in found.json()] == [households_to_filter["plain"].pk]


def test_an_id_number_outside_the_area_finds_nothing(cadre_api, households_to_filter):
    from shouwang.core import crypto

    far = households_to_filter["far"].members.first()
    far_id = crypto.decrypt(far.id_number_encrypted)
    found = cadre_api.post("/api/households/find/", {"id_number": far_id})
    assert found.status_code == 200 and found.json() == []
    mine = cadre_api.post("/api/households/find/", {"id_number": WANG_DASHAN_ID})
    assert [row["id"] for row in mine.json()] == [households_to_filter["plain"].pk]
