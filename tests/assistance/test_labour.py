"""A household's labour capacity is a value of its own (有劳动能力 / 弱劳动能力 / 无劳动能力),
never the label of a rule's labour condition (不限, …): for every mix of members' labour
skills, in the function, in rule matching and on the plan page."""

from __future__ import annotations

import itertools
import re

import pytest
from django.urls import reverse

from shouwang.assistance.choices import (
    LABOUR_CONDITION_LEVELS,
    HouseholdLabour,
    HouseholdLabourLevel,
)
from shouwang.assistance.models import RecommendationRule
from shouwang.assistance.recommend import _household_fits, household_labour
from shouwang.registry import choices as rc
from shouwang.registry.models import Member
from tests import factories as f

L = rc.LabourSkill
#: Every set of labour skills a household's members can have, the empty household included.
SITUATIONS = [
    combo for size in range(len(L) + 1) for combo in itertools.combinations(list(L), size)
]
FILTER_LABELS = {str(label) for label in HouseholdLabour.labels}


def _expected(skills: tuple[str, ...]) -> HouseholdLabourLevel:
    if {L.ORDINARY, L.SKILLED} & set(skills):
        return HouseholdLabourLevel.CAPABLE
    if L.WEAK in skills:
        return HouseholdLabourLevel.WEAK
    return HouseholdLabourLevel.NONE


def _ids(skills: tuple[str, ...]) -> str:
    return "+".join(skills) or "no-members"


@pytest.mark.parametrize("skills", SITUATIONS, ids=[_ids(s) for s in SITUATIONS])
def test_household_labour_is_a_household_value_for_every_situation(skills):
    members = [Member(labour_skill=skill) for skill in skills]

    level = household_labour(members)

    assert isinstance(level, HouseholdLabourLevel)
    assert level == _expected(skills)
    assert str(level.label) not in FILTER_LABELS


def test_household_values_and_filter_labels_do_not_overlap():
    assert not {str(label) for label in HouseholdLabourLevel.labels} & FILTER_LABELS


@pytest.mark.parametrize("level", list(HouseholdLabourLevel))
@pytest.mark.parametrize("condition", list(HouseholdLabour))
def test_rule_conditions_match_household_levels(condition, level):
    rule = RecommendationRule(household_labour=condition, risk_types=[])
    expected = {
        HouseholdLabour.ANY: True,
        HouseholdLabour.CAPABLE: level == HouseholdLabourLevel.CAPABLE,
        HouseholdLabour.NONE: level == HouseholdLabourLevel.NONE,
    }[condition]

    assert _household_fits(rule, set(), level) is expected
    assert set(LABOUR_CONDITION_LEVELS) == set(HouseholdLabour)


#: One household per distinct outcome, and the walkthrough's: weak labour only.
PAGE_SITUATIONS = {
    "ordinary and lost": ((L.ORDINARY, L.LOST), "有劳动能力"),
    "weak only (demo 5003)": ((L.WEAK, L.WEAK), "弱劳动能力"),
    "weak and lost": ((L.WEAK, L.LOST), "弱劳动能力"),
    "lost and none": ((L.LOST, L.NONE), "无劳动能力"),
    "no members": ((), "无劳动能力"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("skills", "label"), list(PAGE_SITUATIONS.values()), ids=list(PAGE_SITUATIONS)
)
def test_the_plan_page_shows_the_households_labour_not_a_filter_label(
    client, village_cadre, skills, label
):
    household = f.make_household(
        members=0,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202601",
        risk_type_1=rc.RiskType.LACK_OF_LABOUR,
    )
    for i, skill in enumerate(skills):
        f.make_member(
            household,
            name=f"成员{i}",
            relation=rc.Relation.HEAD if i == 0 else rc.Relation.SPOUSE,
            labour_skill=skill,
        )
    client.force_login(village_cadre)

    response = client.get(reverse("assistance:household_plan", args=[household.pk]))

    assert response.status_code == 200
    assert response.context["labour"] == label
    shown = re.search(r"<dt>家庭劳动能力</dt><dd>(.*?)</dd>", response.content.decode())
    assert shown is not None and shown.group(1) == label
    assert shown.group(1) not in FILTER_LABELS
