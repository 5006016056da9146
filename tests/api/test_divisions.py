import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def all_rows(client, **query):
    response = client.get("/api/divisions/", {"page_size": 500, **query})
    assert response.status_code == 200
    return response.json()["results"]


def test_village_cadre_sees_only_own_village(cadre_api):
    rows = all_rows(cadre_api)
    assert [row["code"] for row in rows] == [f.VILLAGE_A]
    assert rows[0] == {
        "code": f.VILLAGE_A,
        "name": rows[0]["name"],
        "level": 5,
        "level_display": "村（社区）",
        "parent": f.TOWNSHIP_HUOLU,
    }
    assert rows[0]["name"].startswith("向前村")


def test_division_outside_the_area_is_a_404(cadre_api):
    assert cadre_api.get(f"/api/divisions/{f.VILLAGE_A}/").status_code == 200
    assert cadre_api.get(f"/api/divisions/{f.VILLAGE_B}/").status_code == 404
    assert cadre_api.get(f"/api/divisions/{f.TOWNSHIP_HUOLU}/").status_code == 404


def test_filter_by_level_and_parent(district_api):
    townships = all_rows(district_api, level=4)
    assert len(townships) == 26
    assert {row["parent"] for row in townships} == {f.COUNTY_WULONG}
    huolu_villages = all_rows(district_api, parent=f.TOWNSHIP_HUOLU)
    assert huolu_villages and all(row["code"].startswith("500156104") for row in huolu_villages)
    assert {row["level"] for row in huolu_villages} == {5}
    assert len(all_rows(district_api, level=5)) == 214


def test_search_by_name_prefix(district_api):
    names = [row["name"] for row in all_rows(district_api, search="火炉")]
    assert "火炉镇" in names
    assert names and all(name.startswith("火炉") for name in names)
    # A prefix search, not a substring one.
    assert all_rows(district_api, search="炉镇") == []


def test_township_staff_sees_the_township_and_its_villages(api_client_for, township_staff):
    rows = all_rows(api_client_for(township_staff))
    assert {row["code"][:9] for row in rows} == {"500156104"}
    assert sum(row["level"] == 4 for row in rows) == 1
