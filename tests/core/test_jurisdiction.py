import pytest

from shouwang.core.jurisdiction import (
    area_q,
    can_edit_registry,
    can_reveal_personal_data,
    division_in_area,
)
from shouwang.registry.models import Household
from shouwang.registry.selectors import household_list, townships_for, villages_for
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_households():
    return (
        f.make_household(f.VILLAGE_A, members=1),
        f.make_household(f.VILLAGE_B, members=1),
        f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1),
    )


def test_each_level_sees_its_area(three_households, village_cadre, township_staff, district_staff):
    a, b, other = three_households
    assert set(household_list(actor=village_cadre)) == {a}
    assert set(household_list(actor=township_staff)) == {a, b}
    assert set(household_list(actor=district_staff)) == {a, b, other}


def test_actor_with_two_villages_sees_both(three_households):
    a, b, other = three_households
    user = f.make_user("two-villages", divisions=[f.VILLAGE_A, f.VILLAGE_OTHER_TOWNSHIP])
    assert set(household_list(actor=user)) == {a, other}


def test_actor_without_divisions_sees_nothing(three_households):
    user = f.make_user("nowhere")
    assert not Household.objects.filter(area_q(user, "village__code")).exists()


def test_division_helpers(village_cadre, township_staff):
    assert division_in_area(village_cadre, f.VILLAGE_A)
    assert not division_in_area(village_cadre, f.VILLAGE_B)
    assert division_in_area(township_staff, f.VILLAGE_B)
    assert [d.code for d in townships_for(actor=township_staff)] == [f.TOWNSHIP_HUOLU]
    assert {d.code for d in villages_for(actor=village_cadre)} == {f.VILLAGE_A}


def test_role_capabilities(village_cadre, department_officer, district_admin):
    assert can_edit_registry(village_cadre)
    assert not can_edit_registry(department_officer)
    assert not can_reveal_personal_data(village_cadre)
    assert can_reveal_personal_data(district_admin)
