"""The Wulong demo district: deterministic generation, coherent people and households, the command."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from shouwang.core.choices import Department, DivisionLevel, Role
from shouwang.core.idnumber import parse_id_number
from shouwang.core.models import AuditEvent, Division, User
from shouwang.registry import choices as c
from shouwang.registry.bulk import HouseholdRecord
from shouwang.registry.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_VILLAGE,
    REFERENCE_DATE,
    demo_generate,
    demo_villages,
)
from shouwang.registry.models import RISK_FIELDS, Household, Member
from tests import factories as f

SEED = 500156
SMALL = 300
STUDENT_STATUSES = {
    c.SchoolStatus.PRIMARY,
    c.SchoolStatus.JUNIOR,
    c.SchoolStatus.SENIOR,
    c.SchoolStatus.SECONDARY_VOCATIONAL,
    c.SchoolStatus.HIGHER_VOCATIONAL,
    c.SchoolStatus.UNDERGRADUATE,
}


@pytest.fixture(scope="module")
def villages(django_db_blocker):
    with django_db_blocker.unblock():
        return demo_villages()


@pytest.fixture(scope="module")
def records(villages) -> list[HouseholdRecord]:
    return demo_generate(seed=SEED, households=SMALL, villages=villages)


def _age(member) -> int:
    born = member.id_number.birth_date
    return (
        REFERENCE_DATE.year
        - born.year
        - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))
    )


def _identity(records: list[HouseholdRecord]) -> list[tuple[str, str, str]]:
    return [
        (
            r.household_number,
            m.id_number.value[:6] + "********" + m.id_number.value[-4:],
            m.fields["name"],
        )
        for r in records
        for m in r.members
    ]


def test_same_seed_same_records_other_seed_other_records(villages, records):
    again = demo_generate(seed=SEED, households=SMALL, villages=villages)
    assert _identity(again) == _identity(records)
    assert [(r.fields, r.phone) for r in again] == [(r.fields, r.phone) for r in records]
    other = demo_generate(seed=SEED + 1, households=SMALL, villages=villages)
    assert _identity(other) != _identity(records)


def test_households_spread_over_the_villages_rural_ones_fuller(villages, records):
    assert len(records) == SMALL
    numbers = [r.household_number for r in records]
    assert len(set(numbers)) == SMALL
    assert all(
        n[:12] == r.fields["village_id"] and len(n) == 16
        for n, r in zip(numbers, records, strict=True)
    )
    per_village = Counter(r.fields["village_id"] for r in records)
    rural = [v.code for v in villages if v.rural]
    urban = [v.code for v in villages if not v.rural]
    assert sum(per_village[v] for v in rural) / len(rural) > 2 * sum(
        per_village[v] for v in urban
    ) / len(urban)
    assert per_village[DEMO_VILLAGE] >= SMALL // 20
    sizes = [len(r.members) for r in records]
    assert min(sizes) >= 1 and max(sizes) <= 7 and 2.9 <= sum(sizes) / len(sizes) <= 3.7


def test_id_numbers_are_valid_unique_and_match_sex(records):
    values = [m.id_number.value for r in records for m in r.members]
    assert len(values) == len(set(values))
    assert {v[:6] for v in values} == {"500156", "500232"}
    for record in records:
        head = record.members[0]
        assert head.fields["relation"] == c.Relation.HEAD
        assert sum(m.fields["relation"] == c.Relation.HEAD for m in record.members) == 1
        for member in record.members:
            parsed = parse_id_number(member.id_number.value)
            assert parsed == member.id_number
            relation = member.fields["relation"]
            if relation == c.Relation.SPOUSE:
                assert parsed.sex != head.id_number.sex
            elif relation in (
                c.Relation.SON,
                c.Relation.GRANDSON,
                c.Relation.FATHER,
                c.Relation.SON_IN_LAW,
            ):
                assert parsed.sex == "male"
            elif relation in (
                c.Relation.DAUGHTER,
                c.Relation.GRANDDAUGHTER,
                c.Relation.MOTHER,
                c.Relation.DAUGHTER_IN_LAW,
            ):
                assert parsed.sex == "female"


def test_ages_fit_relations(records):
    for record in records:
        head_age = _age(record.members[0])
        assert 30 <= head_age <= 85
        for member in record.members[1:]:
            age, relation = _age(member), member.fields["relation"]
            if relation == c.Relation.SPOUSE:
                assert abs(age - head_age) <= 5
            elif relation in (c.Relation.SON, c.Relation.DAUGHTER):
                assert 0 <= age <= 40 and 20 <= head_age - age <= 35
            elif relation in (c.Relation.FATHER, c.Relation.MOTHER):
                assert 22 <= age - head_age <= 35
            elif relation in (
                c.Relation.GRANDSON,
                c.Relation.GRANDDAUGHTER,
                c.Relation.GRANDCHILD_DAUGHTER_SIDE,
            ):
                assert 0 <= age <= 17 and head_age - age >= 30


def test_schooling_health_labour_and_work_fit_each_person(records):
    members = [m for r in records for m in r.members]
    for member in members:
        age, fields = _age(member), member.fields
        if age < 6:
            assert fields["education"] == c.Education.PRESCHOOL
        if 6 <= age <= 11 and fields["disability_grade"] not in ("1", "2"):
            assert fields["school_status"] == c.SchoolStatus.PRIMARY
        if 12 <= age <= 14:
            assert fields["school_status"] in (
                c.SchoolStatus.JUNIOR,
                c.SchoolStatus.DROPPED_OUT,
                c.SchoolStatus.NOT_IN_SCHOOL,
            )
        if age >= 23:
            assert fields["school_status"] == c.SchoolStatus.NOT_IN_SCHOOL
        if age < 16 or age > 75 or fields["school_status"] in STUDENT_STATUSES:
            assert fields["labour_skill"] == c.LabourSkill.NONE
        elif fields["health_status"] == c.HealthStatus.SERIOUS_ILLNESS or fields[
            "disability_grade"
        ] in ("1", "2"):
            assert fields["labour_skill"] == c.LabourSkill.LOST
        disabled = fields["health_status"] == c.HealthStatus.DISABLED
        assert bool(fields["disability_grade"]) == disabled == bool(fields["disability_type"])
        working = fields["employment_status"] != c.EmploymentStatus.NOT_WORKING
        assert (fields["months_employed"] > 0) == working and fields["months_employed"] <= 12
        if fields["labour_skill"] in (c.LabourSkill.NONE, c.LabourSkill.LOST):
            assert not working
    health = Counter(m.fields["health_status"] for m in members)
    assert health[c.HealthStatus.HEALTHY] > len(members) * 0.7
    assert 0.02 < health[c.HealthStatus.DISABLED] / len(members) < 0.09
    assert Counter(m.fields["ethnicity"] for m in members).most_common(1)[0][0] == c.Ethnicity.HAN


def test_every_category_is_present(records):
    assert {r.fields["household_type"] for r in records} == set(c.HouseholdType.values)
    assert {r.fields["monitoring_category"] for r in records} == {""} | set(
        c.MonitoringCategory.values
    )
    assert {r.fields["monitoring_status"] for r in records} == set(c.MonitoringStatus.values)
    types = Counter(r.fields["household_type"] for r in records)
    assert (
        types[c.HouseholdType.POVERTY_EXITED]
        > types[c.HouseholdType.ORDINARY]
        > types[c.HouseholdType.MONITORED]
    )
    assert any(r.fields["relocated"] for r in records)
    assert any(
        m.fields["social_assistance"] == c.SocialAssistance.DIBAO
        for r in records
        for m in r.members
    )


def test_risk_types_are_explained_by_the_household(records):
    monitored = [r for r in records if r.fields["monitoring_category"]]
    assert monitored
    for record in monitored:
        fields, members = record.fields, record.members
        risks = [fields[name] for name in RISK_FIELDS if fields[name]]
        assert 1 <= len(risks) <= 3 and len(set(risks)) == len(risks)
        health = {m.fields["health_status"] for m in members}
        if c.RiskType.ILLNESS in risks:
            assert health & {c.HealthStatus.SERIOUS_ILLNESS, c.HealthStatus.CHRONIC}
        if c.RiskType.DISABILITY in risks:
            assert c.HealthStatus.DISABLED in health
        if c.RiskType.SCHOOLING in risks:
            assert any(m.fields["school_status"] in STUDENT_STATUSES for m in members)
        if c.RiskType.LACK_OF_LABOUR in risks:
            workers = [
                m
                for m in members
                if m.fields["labour_skill"] in c.LABOUR_CAPABLE and 16 <= _age(m) <= 64
            ]
            assert len(workers) <= 1
        if c.RiskType.HOUSING in risks:
            assert not fields["housing_secure"]
        if c.RiskType.DRINKING_WATER in risks:
            assert not fields["drinking_water_secure"]
        assert "202107" <= fields["identified_month"] <= "202609"
        if fields["monitoring_status"] == c.MonitoringStatus.RISK_ELIMINATED:
            identified, eliminated = (
                int(fields["identified_month"]),
                int(fields["eliminated_month"]),
            )
            months = (
                (eliminated // 100 - identified // 100) * 12 + eliminated % 100 - identified % 100
            )
            assert months >= 6 and fields["elimination_method"]


def test_monitored_households_near_or_under_the_line(records):
    def per_capita(record: HouseholdRecord) -> float:
        f = record.fields
        net = f["wage_income"] + f["operating_income"] + f["property_income"] + f["transfer_income"]
        return float(net - f["productive_expenses"]) / len(record.members)

    at_risk = [
        per_capita(r)
        for r in records
        if r.fields["monitoring_status"] == c.MonitoringStatus.RISK_UNRESOLVED
    ]
    others = [
        per_capita(r)
        for r in records
        if r.fields["monitoring_status"] == c.MonitoringStatus.NOT_MONITORED
    ]
    assert sorted(at_risk)[len(at_risk) // 2] < 9000
    assert sum(x >= 9000 for x in others) / len(others) > 0.85


@pytest.mark.django_db
def test_command_builds_the_district_with_accounts(client):
    # Start from a database without Wulong's villages: the command loads them.
    Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith="500156").delete()
    out = io.StringIO()
    call_command("demo", households=SMALL, if_empty=True, stdout=out)
    text = out.getvalue()
    assert "演示账号" in text and DEMO_PASSWORD in text
    assert (
        Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith="500156").count()
        == 214
    )
    assert Household.objects.count() == SMALL
    assert Member.objects.count() == sum(h.member_count for h in Household.objects.all())
    assert not Household.objects.filter(head_name="").exists()

    expected = {
        "demo-district": (Role.DISTRICT_ADMIN, "500156000000", ""),
        "demo-township": (Role.TOWNSHIP_STAFF, "500156104000", ""),
        "demo-village": (Role.VILLAGE_CADRE, DEMO_VILLAGE, ""),
        "demo-dept": (Role.DEPARTMENT_OFFICER, "500156000000", Department.MEDICAL_INSURANCE),
    }
    assert {a.username for a in DEMO_ACCOUNTS} == set(expected)
    for username, (role, division, department) in expected.items():
        user = User.objects.get(username=username)
        assert (user.role, user.department) == (role, department)
        assert list(user.divisions.values_list("code", flat=True)) == [division]
        assert user.display_name and username in text
        assert client.login(username=username, password=DEMO_PASSWORD)
        client.logout()
    cadre = User.objects.get(username="demo-village")
    grid = Household.objects.filter(grid_member=cadre)
    assert grid.exists() and set(grid.values_list("village_id", flat=True)) == {DEMO_VILLAGE}

    # What the forms would accept: every stored record passes the models' validation.
    for household in Household.objects.all():
        household.full_clean()
    for member in Member.objects.all()[:400]:
        member.full_clean()


@pytest.mark.django_db
def test_rerun_with_the_same_seed_changes_nothing():
    call_command("demo", households=120, stdout=io.StringIO())
    before = list(
        Member.objects.order_by("id").values_list("id", "household_id", "name", "id_number_index")
    )
    registry_events = AuditEvent.objects.filter(target_type__startswith="registry.").count()
    out = io.StringIO()
    call_command("demo", households=120, stdout=out)
    assert "未变 120 户" in out.getvalue()
    assert (
        list(
            Member.objects.order_by("id").values_list(
                "id", "household_id", "name", "id_number_index"
            )
        )
        == before
    )
    assert AuditEvent.objects.filter(target_type__startswith="registry.").count() == registry_events


@pytest.mark.django_db
def test_if_empty_skips_a_registry_that_has_households():
    f.make_household(members=1)
    out = io.StringIO()
    call_command("demo", households=50, if_empty=True, stdout=out)
    assert "未生成演示数据" in out.getvalue()
    assert Household.objects.count() == 1
    assert not User.objects.filter(username__startswith="demo-").exists()


@pytest.mark.django_db
def test_other_data_is_refused_unless_forced():
    real = f.make_household(members=2)
    call_command("demo", households=60, force=True, stdout=io.StringIO())
    assert Household.objects.count() == 61
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", households=60, seed=7, stdout=io.StringIO())

    call_command("demo", households=60, seed=7, force=True, stdout=io.StringIO())
    real.refresh_from_db()
    assert real.member_count == 2
    # Every demo household now holds exactly the people seed 7 generates for it.
    villages = demo_villages()
    for record in demo_generate(seed=7, households=60, villages=villages):
        household = Household.objects.get(household_number=record.household_number)
        assert household.member_count == len(record.members)
        assert household.head_name == record.members[0].fields["name"]
