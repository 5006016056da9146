"""The shipped recommendation rules over household profiles (risk × labour × age × school ×
health), read from the database as a district would have them: table-driven."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest

from shouwang.assistance.models import Measure, RecommendationRule
from shouwang.assistance.recommend import household_labour
from shouwang.assistance.selectors import household_proposals
from shouwang.assistance.services import plan_accept, rule_save
from shouwang.registry import choices as rc
from tests import factories as f

TODAY = dt.date(2026, 11, 29)

# Member shorthands: (age, labour, school, health)
L = rc.LabourSkill
S = rc.SchoolStatus
H = rc.HealthStatus


@dataclass(frozen=True)
class Person:
    age: int
    labour: str = L.ORDINARY
    school: str = S.NOT_IN_SCHOOL
    health: str = H.HEALTHY


@dataclass(frozen=True)
class Profile:
    name: str
    risks: tuple[str, ...]
    people: tuple[Person, ...]
    expected: tuple[str, ...]  # measure names, repeated once per member for per-member rules


WORKER = Person(45)
SPOUSE = Person(43)

PROFILES = (
    Profile(
        "illness, a seriously ill worker and a healthy spouse",
        (rc.RiskType.ILLNESS,),
        (Person(45, health=H.SERIOUS_ILLNESS), SPOUSE),
        ("医疗救助", "技能培训"),
    ),
    Profile(
        "illness, a chronically ill old man living alone without labour",
        (rc.RiskType.ILLNESS,),
        (Person(70, labour=L.LOST, health=H.CHRONIC),),
        ("低保", "医疗救助", "家庭医生签约服务"),
    ),
    Profile(
        "schooling, a vocational, a junior and a university student",
        (rc.RiskType.SCHOOLING,),
        (
            WORKER,
            SPOUSE,
            Person(17, L.NONE, S.SECONDARY_VOCATIONAL),
            Person(13, L.NONE, S.JUNIOR),
            Person(19, L.NONE, S.UNDERGRADUATE),
        ),
        ("雨露计划", "学生资助", "义务教育阶段生活补助", "技能培训"),
    ),
    Profile(
        "schooling, two vocational students: one 雨露计划 each",
        (rc.RiskType.SCHOOLING,),
        (
            WORKER,
            Person(17, L.NONE, S.SECONDARY_VOCATIONAL),
            Person(20, L.NONE, S.HIGHER_VOCATIONAL),
        ),
        ("雨露计划", "雨露计划", "技能培训"),
    ),
    Profile(
        "disability, a disabled head and a weak spouse",
        (rc.RiskType.DISABILITY,),
        (Person(50, L.LOST, health=H.DISABLED), Person(52, L.WEAK)),
        ("残疾人两项补贴",),
    ),
    Profile(
        "lack of labour, a weak worker under 65",
        (rc.RiskType.LACK_OF_LABOUR,),
        (Person(58, L.WEAK), Person(80, L.LOST)),
        ("公益性岗位",),
    ),
    Profile(
        "lack of labour, nobody can work at all: the backstop",
        (rc.RiskType.LACK_OF_LABOUR,),
        (Person(78, L.LOST), Person(76, L.NONE)),
        ("低保",),
    ),
    Profile(
        "unsafe housing, able to work",
        (rc.RiskType.HOUSING,),
        (WORKER,),
        ("农村危房改造", "技能培训"),
    ),
    Profile(
        "unsafe drinking water, able to work",
        (rc.RiskType.DRINKING_WATER,),
        (WORKER, SPOUSE),
        ("农村供水工程改造", "技能培训"),
    ),
    Profile(
        "unstable employment, a skilled worker: employment help is the development measure",
        (rc.RiskType.UNSTABLE_EMPLOYMENT,),
        (Person(35, L.SKILLED),),
        ("外出务工补贴",),
    ),
    Profile(
        "unstable employment but no labour: the backstop, not employment help",
        (rc.RiskType.UNSTABLE_EMPLOYMENT,),
        (Person(75, L.LOST),),
        ("低保",),
    ),
    Profile(
        "industry failure, able to work: credit and industry help",
        (rc.RiskType.INDUSTRY_FAILURE,),
        (WORKER,),
        ("产业发展奖补", "小额信贷"),
    ),
    Profile(
        "natural disaster, able to work",
        (rc.RiskType.NATURAL_DISASTER,),
        (WORKER,),
        ("受灾人员救助", "技能培训"),
    ),
    Profile(
        "accident, able to work",
        (rc.RiskType.ACCIDENT,),
        (WORKER,),
        ("防贫保险", "技能培训"),
    ),
    Profile(
        "illness and disability together: combined help",
        (rc.RiskType.ILLNESS, rc.RiskType.DISABILITY),
        (Person(48, health=H.SERIOUS_ILLNESS), Person(20, L.LOST, health=H.DISABLED)),
        ("医疗救助", "残疾人两项补贴", "技能培训"),
    ),
    Profile(
        "able to work but every worker is over 60: industry help instead of training",
        (rc.RiskType.OTHER,),
        (Person(63), Person(61)),
        ("农业技术指导",),
    ),
    Profile(
        "a dropped-out 14-year-old",
        (rc.RiskType.OTHER,),
        (WORKER, Person(14, L.NONE, S.DROPPED_OUT)),
        ("控辍保学劝返", "技能培训"),
    ),
    Profile(
        "illness risk but nobody ill on record: no health measure is invented",
        (rc.RiskType.ILLNESS,),
        (WORKER,),
        ("技能培训",),
    ),
)


def _household(profile: Profile):
    risks = {f"risk_type_{i}": risk for i, risk in enumerate(profile.risks, start=1)}
    household = f.make_household(
        f.VILLAGE_A,
        members=0,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202605",
        **risks,
    )
    for index, person in enumerate(profile.people):
        birth = TODAY.replace(year=TODAY.year - person.age) - dt.timedelta(days=30)
        f.make_member(
            household,
            id_number=f.next_id_number(birth=birth, male=index % 2 == 0),
            name=f"成员{index}",
            relation=rc.Relation.HEAD if index == 0 else rc.Relation.OTHER,
            labour_skill=person.labour,
            school_status=person.school,
            health_status=person.health,
            disability_grade=rc.DisabilityGrade.GRADE_2 if person.health == H.DISABLED else "",
        )
    return household


@pytest.mark.django_db
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_shipped_rules_propose_the_expected_measures(profile):
    household = _household(profile)

    proposals = household_proposals(household=household, today=TODAY)

    assert Counter(p.measure.name for p in proposals) == Counter(profile.expected)
    for proposal in proposals:
        assert proposal.rule.measure_id == proposal.measure.pk
        assert proposal.reason  # says why, in words a cadre can check
        if proposal.rule.per_member:
            assert proposal.member is not None and proposal.member.name in proposal.reason
    # The policy's invariants hold for every profile.
    members = list(household.members.all())
    labour = household_labour(members)
    if labour == "capable":
        assert any(p.measure.development for p in proposals), "labour-capable: development help"
        assert {p.measure.group.code for p in proposals} != {"comprehensive"}
    if labour == "none":
        assert any(p.measure.backstop for p in proposals), "no labour at all: the backstop"


@pytest.mark.django_db
def test_measures_already_planned_are_not_proposed_again():
    profile = PROFILES[0]  # 医疗救助 + 技能培训
    household = _household(profile)
    plan_accept(
        actor=None,
        household=household,
        items=[{"measure": Measure.objects.get(name="外出务工补贴")}],
        today=TODAY,
    )

    proposals = household_proposals(household=household, today=TODAY)

    # 外出务工补贴 is development-type: the "at least one development measure" rule is quiet.
    assert [p.measure.name for p in proposals] == ["医疗救助"]


@pytest.mark.django_db
def test_a_stopped_measure_does_not_count_as_planned():
    from shouwang.assistance.services import plan_measure_progress

    household = _household(PROFILES[0])
    plan = plan_accept(
        actor=None,
        household=household,
        items=[{"measure": Measure.objects.get(name="医疗救助")}],
        today=TODAY,
    )
    plan_measure_progress(
        actor=None,
        plan_measure=plan.measures.get(),
        status="stopped",
        data={"status_note": "已享受其他救助"},
        today=TODAY,
    )

    names = [p.measure.name for p in household_proposals(household=household, today=TODAY)]

    assert names == ["医疗救助", "技能培训"]


@pytest.mark.django_db
def test_an_administrator_changes_what_the_rules_propose(district_admin):
    household = _household(PROFILES[0])  # a seriously ill worker
    sign_up = RecommendationRule.objects.get(name="因病：家庭医生签约服务")
    assert "家庭医生签约服务" not in {
        p.measure.name for p in household_proposals(household=household, today=TODAY)
    }

    rule_save(
        actor=district_admin,
        rule=sign_up,
        data={"member_health_statuses": [H.CHRONIC, H.SERIOUS_ILLNESS]},
    )
    names = {p.measure.name for p in household_proposals(household=household, today=TODAY)}
    assert "家庭医生签约服务" in names

    rule_save(actor=district_admin, rule=sign_up, data={"active": False})
    rule_save(
        actor=district_admin,
        rule=RecommendationRule.objects.get(name="因病：患病成员医疗救助"),
        data={"active": False},
    )
    names = {p.measure.name for p in household_proposals(household=household, today=TODAY)}
    assert names == {"技能培训"}


@pytest.mark.django_db
def test_a_deactivated_measure_is_not_proposed(district_admin):
    from shouwang.assistance.services import measure_save

    household = _household(PROFILES[0])
    measure_save(
        actor=district_admin, measure=Measure.objects.get(name="技能培训"), data={"active": False}
    )

    names = [p.measure.name for p in household_proposals(household=household, today=TODAY)]

    # With training gone, the next development rule (industry help) keeps the household off a
    # plan without development help.
    assert names == ["医疗救助", "农业技术指导"]
