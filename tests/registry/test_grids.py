"""Grids (网格): services, selectors and pages."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from shouwang.core.choices import AuditAction, Role
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import grid_selectors, grid_services, services
from shouwang.registry.bulk import HouseholdRecord, registry_bulk_upsert
from shouwang.registry.models import Grid, Household
from tests import factories as f

pytestmark = pytest.mark.django_db


def village(code: str = f.VILLAGE_A) -> Division:
    return Division.objects.get(code=code)


@pytest.fixture
def grid(village_cadre):
    return grid_services.grid_create(
        actor=None, name="一组网格", village=village(), members=[village_cadre]
    )


# Services


def test_create_checks_workers_and_writes_audit(village_cadre, township_staff):
    grid = grid_services.grid_create(
        actor=village_cadre,
        name=" 二组 ",
        village=village(),
        members=[village_cadre, township_staff],
        note="沿河片区",
    )
    assert grid.name == "二组"
    assert set(grid.members.all()) == {village_cadre, township_staff}
    event = AuditEvent.objects.get(target_type="registry.grid", action=AuditAction.CREATE)
    assert event.actor == village_cadre
    assert sorted(event.after["members"]) == sorted([village_cadre.pk, township_staff.pk])


@pytest.mark.parametrize(
    ("role", "divisions"),
    [
        (Role.VILLAGE_CADRE, [f.VILLAGE_B]),  # another village's cadre
        (Role.DISTRICT_STAFF, [f.COUNTY_WULONG]),  # not a grid worker role
        (Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG]),
    ],
)
def test_workers_must_be_cadres_or_township_staff_covering_the_village(role, divisions):
    user = f.make_user("someone", role, divisions)
    with pytest.raises(ValidationError) as exc:
        grid_services.grid_create(actor=None, name="一组", village=village(), members=[user])
    assert "不能担任该村网格员" in str(exc.value)
    assert not Grid.objects.exists()


def test_grid_must_be_in_a_village_and_named_uniquely(grid):
    with pytest.raises(ValidationError):
        grid_services.grid_create(actor=None, name="镇网格", village=village(f.TOWNSHIP_HUOLU))
    with pytest.raises(ValidationError) as exc:
        grid_services.grid_create(actor=None, name="一组网格", village=village())
    assert "同名网格" in str(exc.value)
    # The same name in another village is fine.
    grid_services.grid_create(actor=None, name="一组网格", village=village(f.VILLAGE_B))


def test_editors_only_within_their_area(village_cadre, department_officer):
    with pytest.raises(PermissionDenied):
        grid_services.grid_create(actor=department_officer, name="一组", village=village())
    with pytest.raises(PermissionDenied):
        grid_services.grid_create(actor=village_cadre, name="一组", village=village(f.VILLAGE_B))


def test_update_logs_changes_and_keeps_the_village(grid, village_cadre, township_staff):
    grid_services.grid_update(
        actor=township_staff, grid=grid, name="一组（新）", members=[township_staff], note=""
    )
    grid.refresh_from_db()
    assert grid.name == "一组（新）"
    assert list(grid.members.all()) == [township_staff]
    event = AuditEvent.objects.get(target_type="registry.grid", action=AuditAction.UPDATE)
    assert event.before["members"] == [village_cadre.pk]
    assert event.after["members"] == [township_staff.pk]


def test_assign_moves_households_and_logs_under_each(grid, village_cadre):
    a, b = f.make_household(members=1), f.make_household(members=1)
    other = grid_services.grid_create(actor=None, name="二组", village=village())
    grid_services.households_assign_to_grid(actor=None, grid=other, household_ids=[b.pk])

    changed = grid_services.households_assign_to_grid(
        actor=village_cadre, grid=grid, household_ids=[a.pk, b.pk, a.pk]
    )
    assert changed == 2
    assert set(grid.households.all()) == {a, b}
    event = AuditEvent.objects.filter(subject=f"registry.household:{b.pk}").latest("id")
    assert (event.actor, event.before, event.after) == (
        village_cadre,
        {"grid": "二组"},
        {"grid": "一组网格"},
    )
    # Again: nothing changes, nothing is logged.
    count = AuditEvent.objects.count()
    assert grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=[a.pk]) == 0
    assert AuditEvent.objects.count() == count


def test_assign_refuses_households_of_another_village_all_or_nothing(grid):
    mine = f.make_household(members=1)
    theirs = f.make_household(f.VILLAGE_B, members=1)
    with pytest.raises(ValidationError) as exc:
        grid_services.households_assign_to_grid(
            actor=None, grid=grid, household_ids=[mine.pk, theirs.pk]
        )
    assert theirs.household_number in str(exc.value)
    assert not grid.households.exists()


def test_remove_and_delete_leave_households_without_grid(grid):
    a, b = f.make_household(members=1), f.make_household(members=1)
    grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=[a.pk, b.pk])
    assert grid_services.households_remove_from_grid(actor=None, grid=grid, household_ids=[a.pk])
    a.refresh_from_db()
    assert a.grid is None
    grid_services.grid_delete(actor=None, grid=grid)
    b.refresh_from_db()
    assert b.grid is None
    assert AuditEvent.objects.filter(target_type="registry.grid", action=AuditAction.DELETE)
    assert AuditEvent.objects.filter(
        subject=f"registry.household:{b.pk}", after={"grid": None}
    ).exists()


def test_moving_a_household_to_another_village_takes_it_out_of_its_grid(grid):
    household = f.make_household(members=1)
    grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=[household.pk])
    services.household_update(actor=None, household=household, data={"village_id": f.VILLAGE_B})
    household.refresh_from_db()
    assert household.grid is None


def test_an_import_moving_a_household_to_another_village_takes_it_out_of_its_grid(grid):
    moved, stays = f.make_household(members=1), f.make_household(members=1)
    grid_services.households_assign_to_grid(
        actor=None, grid=grid, household_ids=[moved.pk, stays.pk]
    )

    def record(household: Household, village_code: str) -> HouseholdRecord:
        return HouseholdRecord(
            household_number=household.household_number,
            fields={"village_id": village_code, "wage_income": Decimal("31234.50")},
        )

    result = registry_bulk_upsert(
        actor=None, records=[record(moved, f.VILLAGE_B), record(stays, f.VILLAGE_A)]
    )

    assert result.households_updated == 2
    moved.refresh_from_db()
    stays.refresh_from_db()
    assert (moved.village_id, moved.grid) == (f.VILLAGE_B, None)
    assert (stays.village_id, stays.grid) == (f.VILLAGE_A, grid)
    assert list(grid.households.all()) == [stays]
    event = AuditEvent.objects.filter(
        target_type="registry.household", target_id=str(moved.pk), action=AuditAction.UPDATE
    ).latest("id")  # the import's, after the assignment's
    assert (
        event.before["village_id"] == f.VILLAGE_A
        and event.before["grid_id"] == grid.pk
        and event.after["grid_id"] is None
    )


def test_household_services_do_not_set_the_grid_directly(grid):
    household = f.make_household(members=1)
    with pytest.raises(Exception, match="grid"):
        services.household_update(actor=None, household=household, data={"grid": grid})


# Selectors


def test_grid_list_is_scoped_and_counts_households(grid, village_cadre):
    grid_services.households_assign_to_grid(
        actor=None, grid=grid, household_ids=[f.make_household(members=1).pk for _ in range(3)]
    )
    elsewhere = grid_services.grid_create(actor=None, name="外村", village=village(f.VILLAGE_B))
    listed = list(grid_selectors.grid_list(actor=village_cadre))
    assert listed == [grid]
    assert listed[0].household_count == 3
    assert elsewhere in grid_selectors.grid_list(actor=None)


def test_grids_of_user(grid, village_cadre, township_staff):
    assert list(grid_selectors.grids_of_user(user=village_cadre)) == [grid]
    assert list(grid_selectors.grids_of_user(user=township_staff)) == []


def test_worker_choices_cover_the_village(village_cadre, township_staff):
    f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    f.make_user("staff", Role.DISTRICT_STAFF, [f.COUNTY_WULONG])
    choices = set(grid_selectors.grid_worker_choices(village_code=f.VILLAGE_A))
    assert choices == {village_cadre, township_staff}


# Pages


def test_pages_404_outside_the_area(client, village_cadre):
    grid = grid_services.grid_create(actor=None, name="外村", village=village(f.VILLAGE_B))
    client.force_login(village_cadre)
    assert client.get(reverse("grids:grid_detail", args=[grid.pk])).status_code == 404
    assert client.get(reverse("grids:grid_edit", args=[grid.pk])).status_code == 404
    response = client.get(reverse("grids:grid_list"))
    assert list(response.context["page"].object_list) == []


def test_readers_see_but_cannot_edit(client, department_officer, grid):
    client.force_login(department_officer)
    response = client.get(reverse("grids:grid_detail", args=[grid.pk]))
    assert response.status_code == 200
    assert "分配农户" not in response.text
    assert client.get(reverse("grids:grid_create")).status_code == 403
    assert (
        client.post(reverse("grids:grid_assign", args=[grid.pk]), {"numbers": "x"}).status_code
        == 403
    )


def test_create_then_edit_workers(client, village_cadre, township_staff):
    client.force_login(village_cadre)
    response = client.post(
        reverse("grids:grid_create"), {"name": "三组", "village": f.VILLAGE_A, "note": ""}
    )
    grid = Grid.objects.get(name="三组")
    assert response.url == reverse("grids:grid_edit", args=[grid.pk])
    response = client.get(response.url)
    assert "乡镇（街道）工作人员" in response.text
    response = client.post(
        reverse("grids:grid_edit", args=[grid.pk]),
        {"name": "三组", "members": [village_cadre.pk, township_staff.pk], "note": "新建"},
    )
    assert response.status_code == 302
    assert set(grid.members.all()) == {village_cadre, township_staff}


def test_assign_by_number_reports_each_bad_line_and_keeps_the_input(client, village_cadre, grid):
    good = f.make_household(members=1)
    theirs = f.make_household(f.VILLAGE_B, members=1)
    client.force_login(village_cadre)
    text = f"{good.household_number}\n\nNOPE-1\n{theirs.household_number}\n"
    response = client.post(reverse("grids:grid_assign", args=[grid.pk]), {"numbers": text})
    assert response.status_code == 400
    assert "第 3 行：找不到户编号 NOPE-1" in response.text
    # Another village's household is outside a village cadre's area: not found either.
    assert f"第 4 行：找不到户编号 {theirs.household_number}" in response.text
    assert good.household_number in response.context["form"]["numbers"].value()
    assert not grid.households.exists()

    client.force_login(f.make_user("huolu", Role.TOWNSHIP_STAFF, [f.TOWNSHIP_HUOLU]))
    response = client.post(reverse("grids:grid_assign", args=[grid.pk]), {"numbers": text})
    assert f"第 4 行：户 {theirs.household_number} 属于 火炉社区" in response.text

    response = client.post(
        reverse("grids:grid_assign", args=[grid.pk]), {"numbers": f" {good.household_number} \n"}
    )
    assert response.status_code == 302
    assert list(grid.households.all()) == [good]


def test_grid_page_lists_households_paginated(client, settings, village_cadre, grid):
    settings.SHOUWANG_PAGE_SIZE = 2
    ids = [f.make_household(members=0).pk for _ in range(3)]
    grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=ids)
    client.force_login(village_cadre)
    url = reverse("grids:grid_detail", args=[grid.pk])
    first = client.get(url)
    assert len(first.context["page"].object_list) == 2
    assert "村干部甲" in first.text
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 1


def test_remove_and_delete_pages(client, village_cadre, grid):
    household = f.make_household(members=1)
    grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=[household.pk])
    client.force_login(village_cadre)
    client.post(reverse("grids:grid_remove", args=[grid.pk, household.pk]))
    assert not grid.households.exists()
    assert client.get(reverse("grids:grid_delete", args=[grid.pk])).status_code == 200
    client.post(reverse("grids:grid_delete", args=[grid.pk]))
    assert not Grid.objects.exists()


def test_household_page_shows_its_grid(client, village_cadre, grid):
    household = f.make_household(members=1)
    client.force_login(village_cadre)
    url = reverse("registry:household_detail", args=[household.pk])
    assert "未分配网格" in client.get(url).text
    grid_services.households_assign_to_grid(actor=None, grid=grid, household_ids=[household.pk])
    assert "网格：一组网格" in client.get(url).text
    assert Household.objects.get(pk=household.pk).grid == grid
