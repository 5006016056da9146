"""The Wulong demo district: a synthetic, deterministic registry for demonstrations and benchmarks.

``demo_generate`` is pure: from a seed, a household count and the list of villages it builds
the household and member records (``random.Random(seed)`` is the only source of chance and
ages are taken at a fixed reference date), so the same seed always gives the same people.
``demo_build`` loads Wulong's divisions, creates the demo accounts and writes the records
through the registry's bulk upsert, which makes a rerun with the same seed change nothing.

The figures aim at plausibility, not at statistics of the real district: household sizes,
ages, schooling, health, labour and incomes hang together per person and per household, and
monitored households carry risk types that their members explain.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.audit import audit_record
from shouwang.core.choices import AuditAction, Department, DivisionLevel, Role
from shouwang.core.divisions import divisions_load_county
from shouwang.core.exceptions import ApplicationError
from shouwang.core.idnumber import make_id_number, parse_id_number
from shouwang.core.models import Division, User
from shouwang.registry import choices as c
from shouwang.registry.bulk import (
    BulkResult,
    HouseholdRecord,
    MemberRecord,
    households_bulk_delete,
    registry_bulk_upsert,
)
from shouwang.registry.models import Household, Member

DEMO_COUNTY_CODE = "500156"
#: 武隆县 became 武隆区 in 2016; IDs issued before keep the retired code and stay valid.
RETIRED_COUNTY_CODE = "500232"
DEMO_SEED = 500156
DEMO_HOUSEHOLDS = 15_000
MAX_HOUSEHOLDS = 500_000
DEMO_PASSWORD = "shouwang-demo"
#: Ages are taken on this day and no one is born after it, whatever today's date.
REFERENCE_DATE = dt.date(2026, 6, 30)
INCOME_YEAR = 2025
FIRST_MONITORING_MONTH = (2021, 7)
LAST_MONITORING_MONTH = (2026, 9)
#: 向前村, 火炉镇: the demo village cadre's village.
DEMO_VILLAGE = "500156104200"
#: The demo village gets at least this many households at full size (fewer in small runs).
DEMO_VILLAGE_MIN_HOUSEHOLDS = 64
WRITE_CHUNK = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    division: str
    display_name: str
    department: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("demo-district", Role.DISTRICT_ADMIN, "500156000000", "陈志刚"),
    DemoAccount("demo-township", Role.TOWNSHIP_STAFF, "500156104000", "刘晓燕"),
    DemoAccount("demo-village", Role.VILLAGE_CADRE, DEMO_VILLAGE, "冉光明"),
    DemoAccount(
        "demo-dept", Role.DEPARTMENT_OFFICER, "500156000000", "张丽", Department.MEDICAL_INSURANCE
    ),
)
DEMO_VILLAGE_ACCOUNT = "demo-village"


@dataclass(frozen=True)
class DemoVillage:
    code: str
    name: str
    township_code: str
    township_name: str

    @property
    def rural(self) -> bool:
        """村民委员会 rather than 社区居民委员会."""
        return "社区" not in self.name


# --------------------------------------------------------------------------------------------
# Reference tables. Weights are rough shares, not statistics.

SURNAMES: tuple[tuple[str, int], ...] = (
    ("陈", 8),
    ("刘", 7),
    ("张", 7),
    ("王", 7),
    ("李", 7),
    ("冉", 5),
    ("杨", 5),
    ("罗", 4),
    ("何", 4),
    ("周", 4),
    ("黄", 4),
    ("田", 3),
    ("向", 3),
    ("赵", 3),
    ("吴", 3),
    ("谢", 3),
    ("徐", 3),
    ("唐", 3),
    ("邓", 3),
    ("龙", 2),
    ("石", 2),
    ("蔡", 2),
    ("袁", 2),
    ("胡", 2),
    ("彭", 2),
    ("任", 2),
    ("曾", 2),
    ("付", 2),
    ("郑", 2),
    ("蒋", 2),
    ("余", 2),
    ("熊", 2),
    ("肖", 2),
    ("孙", 2),
    ("敖", 1),
    ("舒", 1),
    ("夏", 1),
    ("文", 1),
    ("汪", 1),
    ("秦", 1),
    ("马", 1),
    ("钟", 1),
    ("姚", 1),
    ("雷", 1),
    ("廖", 1),
    ("程", 1),
    ("江", 1),
    ("韦", 1),
    ("麻", 1),
    ("简", 1),
)
#: Given-name characters by generation (born before 1965, 1965-1994, 1995 on) and sex.
GIVEN_CHARS = {
    ("old", "male"): "德福贵春成祥兴发荣华明国忠全富清云志光生先学世永万长才树林山海文正顺开元",
    ("old", "female"): "秀英兰珍芳凤玉桂花翠琼淑素群碧贞琴菊梅莲荣华香仙容会芬",
    ("mid", "male"): "军平建伟勇刚斌波辉峰杰涛强华明亮红兵林勤东江飞祥俊剑涛鹏毅军辉",
    ("mid", "female"): "丽娟霞燕红敏静艳玲琴萍英芳梅莉云慧娜丹琳平春霞蓉",
    ("young", "male"): "浩宇轩睿博涛杰鹏磊超凯航晨阳鑫宏俊豪子然铭泽瑞逸辰明",
    ("young", "female"): "涵萱欣怡诗雨婷悦琪佳颖馨妍晴雪思梦梓瑶可欢月娇",
}
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)

HAN, MIAO, TUJIA, GELAO = c.Ethnicity.HAN, c.Ethnicity.MIAO, c.Ethnicity.TUJIA, c.Ethnicity.GELAO
ETHNIC_MIX_DEFAULT = ((HAN, 94.0), (TUJIA, 3.0), (MIAO, 2.5), (GELAO, 0.5))
#: Wulong's ethnic townships (苗族土家族乡, 苗族仡佬族乡) have many more minority residents.
ETHNIC_MIX_BY_TOWNSHIP = {
    "500156202": ((HAN, 45.0), (MIAO, 30.0), (TUJIA, 25.0)),  # 石桥苗族土家族乡
    "500156205": ((HAN, 45.0), (MIAO, 30.0), (TUJIA, 25.0)),  # 文复苗族土家族乡
    "500156208": ((HAN, 45.0), (MIAO, 30.0), (TUJIA, 25.0)),  # 后坪苗族土家族乡
    "500156209": ((HAN, 45.0), (MIAO, 30.0), (GELAO, 25.0)),  # 浩口苗族仡佬族乡
}

HOUSEHOLD_SIZES = ((1, 12), (2, 22), (3, 22), (4, 20), (5, 13), (6, 7), (7, 4))
HEAD_AGE_BANDS = ((30, 39, 12), (40, 49, 20), (50, 59, 27), (60, 69, 23), (70, 79, 13), (80, 85, 5))
SINGLE_HEAD_AGE_BANDS = (
    (30, 39, 8),
    (40, 49, 10),
    (50, 59, 17),
    (60, 69, 25),
    (70, 79, 27),
    (80, 85, 13),
)

#: Centralised relocation sites (易地扶贫搬迁安置点) in the district's towns.
RELOCATION_SITES = {
    "500156003": "仙女山街道安置点",
    "500156004": "羊角街道安置点",
    "500156101": "白马镇安置点",
    "500156102": "江口镇安置点",
    "500156104": "火炉镇安置点",
    "500156105": "鸭江镇安置点",
    "500156107": "长坝镇安置点",
    "500156108": "平桥镇安置点",
    "500156109": "桐梓镇安置点",
    "500156111": "和顺镇安置点",
}
COUNTY_RELOCATION_SITES = (
    "凤山街道城区安置点",
    "芙蓉街道城区安置点",
    "仙女山街道安置点",
    "江口镇安置点",
)

STUDENT_STATUSES = frozenset(
    {
        c.SchoolStatus.PRIMARY,
        c.SchoolStatus.JUNIOR,
        c.SchoolStatus.SENIOR,
        c.SchoolStatus.SECONDARY_VOCATIONAL,
        c.SchoolStatus.HIGHER_VOCATIONAL,
        c.SchoolStatus.UNDERGRADUATE,
    }
)
WAGE_JOBS = frozenset(
    {
        c.EmploymentStatus.OUTSIDE_PROVINCE,
        c.EmploymentStatus.OUTSIDE_COUNTY,
        c.EmploymentStatus.INSIDE_COUNTY,
        c.EmploymentStatus.PUBLIC_WELFARE_JOB,
    }
)
#: Monthly wage ranges (yuan). Public-welfare posts (公益性岗位) pay far less than migrant work.
MONTHLY_WAGE = {
    c.EmploymentStatus.OUTSIDE_PROVINCE: (3500, 6000),
    c.EmploymentStatus.OUTSIDE_COUNTY: (3000, 5500),
    c.EmploymentStatus.INSIDE_COUNTY: (2500, 4500),
    c.EmploymentStatus.PUBLIC_WELFARE_JOB: (800, 1500),
}
#: Relations whose sex is fixed; the others (spouse aside) are drawn.
RELATION_SEX = {
    c.Relation.SON: "male",
    c.Relation.GRANDSON: "male",
    c.Relation.FATHER: "male",
    c.Relation.SON_IN_LAW: "male",
    c.Relation.DAUGHTER: "female",
    c.Relation.GRANDDAUGHTER: "female",
    c.Relation.MOTHER: "female",
    c.Relation.DAUGHTER_IN_LAW: "female",
}
#: Relations that carry the family surname (the male line), as opposed to people who married in.
FAMILY_LINE = frozenset(
    {
        c.Relation.SON,
        c.Relation.DAUGHTER,
        c.Relation.GRANDSON,
        c.Relation.GRANDDAUGHTER,
        c.Relation.FATHER,
    }
)


def _weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    values = [v for v, _ in table]
    weights = [w for _value, w in table]
    return rng.choices(values, weights=weights)[0]


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month_text(index: int) -> str:
    return f"{index // 12}{index % 12 + 1:02d}"


def _money(value: float) -> Decimal:
    return Decimal(round(value)).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------
# Generation


@dataclass
class _Person:
    relation: str
    age: int
    sex: str
    surname: str
    ethnicity: str
    name: str = ""
    id_number: str = ""
    education: str = c.Education.PRESCHOOL
    school_status: str = c.SchoolStatus.NOT_IN_SCHOOL
    health_status: str = c.HealthStatus.HEALTHY
    disability_grade: str = ""
    disability_type: str = ""
    labour_skill: str = c.LabourSkill.NONE
    employment_status: str = c.EmploymentStatus.NOT_WORKING
    months_employed: int = 0
    monthly_wage: int = 0
    has_basic_medical_insurance: bool = True
    has_critical_illness_insurance: bool = True
    has_pension_insurance: bool = False
    social_assistance: str = c.SocialAssistance.NONE

    @property
    def student(self) -> bool:
        return self.school_status in STUDENT_STATUSES

    @property
    def capable(self) -> bool:
        return self.labour_skill in c.LABOUR_CAPABLE

    @property
    def severely_disabled(self) -> bool:
        return self.disability_grade in ("1", "2")

    def member_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "relation": self.relation,
            "ethnicity": self.ethnicity,
            "education": self.education,
            "school_status": self.school_status,
            "health_status": self.health_status,
            "disability_grade": self.disability_grade,
            "disability_type": self.disability_type,
            "labour_skill": self.labour_skill,
            "employment_status": self.employment_status,
            "months_employed": self.months_employed,
            "has_basic_medical_insurance": self.has_basic_medical_insurance,
            "has_critical_illness_insurance": self.has_critical_illness_insurance,
            "has_pension_insurance": self.has_pension_insurance,
            "social_assistance": self.social_assistance,
        }


class _Generator:
    """Holds the one random stream and the ID numbers handed out so far."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()

    # ---- people ------------------------------------------------------------------------

    def surname(self) -> str:
        return _weighted(self.rng, SURNAMES)

    def given_name(self, sex: str, age: int) -> str:
        born = REFERENCE_DATE.year - age
        era = "old" if born < 1965 else "mid" if born < 1995 else "young"
        chars = GIVEN_CHARS[(era, sex)]
        length = 1 if self.rng.random() < 0.25 else 2
        return "".join(self.rng.choice(chars) for _position in range(length))

    def birth_date(self, age: int) -> dt.date:
        """A day on which someone turns ``age`` within the year before the reference date."""
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        earliest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age - 1) + dt.timedelta(days=1)
        return earliest + dt.timedelta(days=self.rng.randrange((latest - earliest).days + 1))

    def id_number(self, age: int, sex: str) -> str:
        born = self.birth_date(age)
        # Those registered before 2016 often still carry 武隆县's code.
        address = RETIRED_COUNTY_CODE if age >= 30 and self.rng.random() < 0.3 else DEMO_COUNTY_CODE
        parity = 1 if sex == "male" else 0
        while True:
            value = make_id_number(address, born, self.rng.randrange(500) * 2 + parity)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def ethnicity(self, township_code: str) -> str:
        return _weighted(self.rng, ETHNIC_MIX_BY_TOWNSHIP.get(township_code, ETHNIC_MIX_DEFAULT))

    # ---- household composition --------------------------------------------------------------

    def composition(self, size: int) -> list[tuple[str, int]]:
        """(relation, age) for each member, head first."""
        rng = self.rng
        bands = SINGLE_HEAD_AGE_BANDS if size == 1 else HEAD_AGE_BANDS
        low, high = _weighted(rng, [((lo, hi), w) for lo, hi, w in bands])
        head_age = rng.randint(low, high)
        people: list[tuple[str, int]] = [(c.Relation.HEAD, head_age)]
        slots = size - 1
        taken: set[int] = set()

        def young_age(low: int, high: int) -> int:
            """A child's age, redrawn a few times to keep siblings a year or more apart."""
            age = rng.randint(low, high)
            for _attempt in range(4):
                if age not in taken:
                    break
                age = rng.randint(low, high)
            taken.add(age)
            return age

        if slots and rng.random() < (0.9 if head_age < 75 else 0.6):
            people.append((c.Relation.SPOUSE, min(95, max(25, head_age + rng.randint(-5, 5)))))
            slots -= 1
        if slots and head_age <= 55 and rng.random() < 0.3:
            for relation in rng.sample(
                [c.Relation.FATHER, c.Relation.MOTHER], k=min(slots, rng.randint(1, 2))
            ):
                parent_age = head_age + rng.randint(22, 35)
                if parent_age <= 95:
                    people.append((relation, parent_age))
                    slots -= 1
        if slots >= 2 and head_age >= 48 and rng.random() < 0.5:
            # Three generations: an adult child with spouse, and their children.
            gap_low, gap_high = max(20, head_age - 40), min(35, head_age - 22)
            if gap_low <= gap_high:
                child_age = head_age - rng.randint(gap_low, gap_high)
                son_line = rng.random() < 0.85
                people.append((c.Relation.SON if son_line else c.Relation.DAUGHTER, child_age))
                slots -= 1
                in_law = c.Relation.DAUGHTER_IN_LAW if son_line else c.Relation.SON_IN_LAW
                if slots and rng.random() < 0.8:
                    people.append((in_law, max(20, child_age + rng.randint(-4, 4))))
                    slots -= 1
                while slots:
                    grandchild_age = young_age(0, max(0, min(17, child_age - 20)))
                    if son_line:
                        relation = rng.choice([c.Relation.GRANDSON, c.Relation.GRANDDAUGHTER])
                    else:
                        relation = c.Relation.GRANDCHILD_DAUGHTER_SIDE
                    people.append((relation, grandchild_age))
                    slots -= 1
        while slots:
            gap_low, gap_high = max(20, head_age - 40), min(35, head_age)
            if gap_low <= gap_high:
                relation = rng.choice([c.Relation.SON, c.Relation.DAUGHTER])
                people.append((relation, young_age(head_age - gap_high, head_age - gap_low)))
            elif rng.random() < 0.85:
                # Older heads raise grandchildren whose parents work away (留守儿童).
                people.append(
                    (rng.choice([c.Relation.GRANDSON, c.Relation.GRANDDAUGHTER]), young_age(0, 17))
                )
            else:
                people.append((c.Relation.SIBLING, min(95, max(30, head_age + rng.randint(-8, 8)))))
            slots -= 1
        return people

    def people(self, size: int, township_code: str) -> list[_Person]:
        rng = self.rng
        plan = self.composition(size)
        head_sex = "male" if rng.random() < 0.82 else "female"
        head_surname = self.surname()
        head_ethnicity = self.ethnicity(township_code)
        spouse_present = any(r == c.Relation.SPOUSE for r, _ in plan)
        spouse_surname = self.surname()
        spouse_ethnicity = head_ethnicity if rng.random() < 0.7 else self.ethnicity(township_code)
        # Children take the father's surname: the head's, or the husband's when the head is a woman.
        if head_sex == "male":
            family_surname = head_surname
        elif spouse_present:
            family_surname = spouse_surname
        else:
            family_surname = head_surname if rng.random() < 0.3 else self.surname()
        minority = next((e for e in (head_ethnicity, spouse_ethnicity) if e != HAN), None)
        children_ethnicity = minority if minority and rng.random() < 0.8 else head_ethnicity

        persons: list[_Person] = []
        for relation, age in plan:
            if relation == c.Relation.HEAD:
                sex, surname, ethnicity = head_sex, head_surname, head_ethnicity
            elif relation == c.Relation.SPOUSE:
                sex = "female" if head_sex == "male" else "male"
                surname, ethnicity = spouse_surname, spouse_ethnicity
            else:
                sex = RELATION_SEX.get(relation) or rng.choice(["male", "female"])
                if relation == c.Relation.FATHER:
                    surname, ethnicity = head_surname, head_ethnicity
                elif relation in FAMILY_LINE:
                    surname, ethnicity = family_surname, children_ethnicity
                elif relation == c.Relation.SIBLING:
                    surname, ethnicity = head_surname, head_ethnicity
                else:  # in-laws, the mother, a daughter's children
                    surname, ethnicity = self.surname(), self.ethnicity(township_code)
            person = _Person(
                relation=relation, age=age, sex=sex, surname=surname, ethnicity=ethnicity
            )
            person.name = surname + self.given_name(sex, age)
            person.id_number = self.id_number(age, sex)
            self.schooling(person)
            self.health(person)
            self.labour(person)
            self.insurance(person)
            persons.append(person)
        return persons

    # ---- per-person attributes --------------------------------------------------------------

    def schooling(self, p: _Person) -> None:
        rng, age = self.rng, p.age
        if age < 6:
            p.education = c.Education.PRESCHOOL
            p.school_status = (
                c.SchoolStatus.PRESCHOOL
                if age >= 3 and rng.random() < 0.85
                else c.SchoolStatus.NOT_IN_SCHOOL
            )
        elif age <= 11:
            p.education, p.school_status = c.Education.PRIMARY, c.SchoolStatus.PRIMARY
        elif age <= 14:
            if rng.random() < 0.01:
                p.education, p.school_status = c.Education.PRIMARY, c.SchoolStatus.DROPPED_OUT
            else:
                p.education, p.school_status = c.Education.JUNIOR, c.SchoolStatus.JUNIOR
        elif age <= 17:
            roll = rng.random()
            if roll < 0.03:
                p.education, p.school_status = c.Education.JUNIOR, c.SchoolStatus.DROPPED_OUT
            elif roll < 0.68:
                p.education, p.school_status = c.Education.SENIOR, c.SchoolStatus.SENIOR
            else:
                p.education, p.school_status = (
                    c.Education.VOCATIONAL,
                    c.SchoolStatus.SECONDARY_VOCATIONAL,
                )
        elif age <= 22 and rng.random() < 0.4:
            if rng.random() < 0.55:
                p.education, p.school_status = c.Education.COLLEGE, c.SchoolStatus.HIGHER_VOCATIONAL
            else:
                p.education, p.school_status = c.Education.UNIVERSITY, c.SchoolStatus.UNDERGRADUATE
        else:
            p.school_status = c.SchoolStatus.NOT_IN_SCHOOL
            if age >= 65:
                table = (
                    (c.Education.ILLITERATE, 35),
                    (c.Education.PRIMARY, 50),
                    (c.Education.JUNIOR, 13),
                    (c.Education.SENIOR, 2),
                )
            elif age >= 45:
                table = (
                    (c.Education.ILLITERATE, 8),
                    (c.Education.PRIMARY, 42),
                    (c.Education.JUNIOR, 40),
                    (c.Education.SENIOR, 7),
                    (c.Education.VOCATIONAL, 3),
                )
            else:
                table = (
                    (c.Education.PRIMARY, 8),
                    (c.Education.JUNIOR, 45),
                    (c.Education.SENIOR, 15),
                    (c.Education.VOCATIONAL, 16),
                    (c.Education.COLLEGE, 11),
                    (c.Education.UNIVERSITY, 5),
                )
            p.education = _weighted(rng, table)

    def health(self, p: _Person) -> None:
        rng, age = self.rng, p.age
        if age < 45:
            table = (
                (c.HealthStatus.HEALTHY, 92.5),
                (c.HealthStatus.CHRONIC, 3),
                (c.HealthStatus.SERIOUS_ILLNESS, 1),
                (c.HealthStatus.DISABLED, 3.5),
            )
        elif age < 65:
            table = (
                (c.HealthStatus.HEALTHY, 78),
                (c.HealthStatus.CHRONIC, 13),
                (c.HealthStatus.SERIOUS_ILLNESS, 3),
                (c.HealthStatus.DISABLED, 6),
            )
        else:
            table = (
                (c.HealthStatus.HEALTHY, 56),
                (c.HealthStatus.CHRONIC, 30),
                (c.HealthStatus.SERIOUS_ILLNESS, 6),
                (c.HealthStatus.DISABLED, 8),
            )
        p.health_status = _weighted(rng, table)
        if p.health_status == c.HealthStatus.DISABLED:
            p.disability_grade = _weighted(rng, (("1", 10), ("2", 20), ("3", 30), ("4", 40)))
            p.disability_type = _weighted(
                rng,
                (
                    (c.DisabilityType.PHYSICAL, 45),
                    (c.DisabilityType.VISUAL, 12),
                    (c.DisabilityType.HEARING, 12),
                    (c.DisabilityType.SPEECH, 3),
                    (c.DisabilityType.INTELLECTUAL, 10),
                    (c.DisabilityType.MENTAL, 10),
                    (c.DisabilityType.MULTIPLE, 8),
                ),
            )
            if p.disability_grade in ("1", "2") and p.student and rng.random() < 0.5:
                # Many severely disabled children are taught at home (送教上门) rather than at school.
                p.school_status = c.SchoolStatus.NOT_IN_SCHOOL

    def labour(self, p: _Person) -> None:
        rng, age = self.rng, p.age
        if age < 16 or age > 75 or p.student:
            p.labour_skill = c.LabourSkill.NONE
        elif p.health_status == c.HealthStatus.SERIOUS_ILLNESS or p.severely_disabled:
            p.labour_skill = c.LabourSkill.LOST
        elif p.health_status in (c.HealthStatus.CHRONIC, c.HealthStatus.DISABLED) or age >= 65:
            p.labour_skill = c.LabourSkill.WEAK if rng.random() < 0.75 else c.LabourSkill.ORDINARY
        else:
            skilled = (
                0.35
                if p.education
                in (c.Education.VOCATIONAL, c.Education.COLLEGE, c.Education.UNIVERSITY)
                else 0.12
            )
            p.labour_skill = (
                c.LabourSkill.SKILLED if rng.random() < skilled else c.LabourSkill.ORDINARY
            )

    def insurance(self, p: _Person) -> None:
        rng = self.rng
        p.has_basic_medical_insurance = rng.random() < 0.985
        p.has_critical_illness_insurance = p.has_basic_medical_insurance
        p.has_pension_insurance = (
            p.age >= 16 and not p.student and rng.random() < (0.95 if p.age >= 60 else 0.85)
        )

    def employment(self, p: _Person, *, hardship: bool) -> None:
        rng = self.rng
        if p.capable and 16 <= p.age <= 64:
            if hardship:
                table = (
                    (c.EmploymentStatus.OUTSIDE_PROVINCE, 15),
                    (c.EmploymentStatus.OUTSIDE_COUNTY, 12),
                    (c.EmploymentStatus.INSIDE_COUNTY, 15),
                    (c.EmploymentStatus.PUBLIC_WELFARE_JOB, 10),
                    (c.EmploymentStatus.SELF_EMPLOYED, 23),
                    (c.EmploymentStatus.NOT_WORKING, 25),
                )
            else:
                table = (
                    (c.EmploymentStatus.OUTSIDE_PROVINCE, 30),
                    (c.EmploymentStatus.OUTSIDE_COUNTY, 20),
                    (c.EmploymentStatus.INSIDE_COUNTY, 15),
                    (c.EmploymentStatus.PUBLIC_WELFARE_JOB, 3),
                    (c.EmploymentStatus.SELF_EMPLOYED, 22),
                    (c.EmploymentStatus.NOT_WORKING, 10),
                )
        elif p.capable or p.labour_skill == c.LabourSkill.WEAK:
            table = (
                (c.EmploymentStatus.PUBLIC_WELFARE_JOB, 15),
                (c.EmploymentStatus.SELF_EMPLOYED, 40),
                (c.EmploymentStatus.INSIDE_COUNTY, 8),
                (c.EmploymentStatus.NOT_WORKING, 37),
            )
        else:
            return
        p.employment_status = _weighted(rng, table)
        if p.employment_status == c.EmploymentStatus.NOT_WORKING:
            return
        if p.employment_status == c.EmploymentStatus.PUBLIC_WELFARE_JOB:
            p.months_employed = 12
        elif p.employment_status == c.EmploymentStatus.SELF_EMPLOYED:
            p.months_employed = rng.randint(8, 12)
        else:
            p.months_employed = rng.randint(2, 8) if hardship else rng.randint(6, 12)
        wage_range = MONTHLY_WAGE.get(p.employment_status)
        if wage_range is not None:
            low, high = wage_range
            if hardship:
                high = (low + high) // 2
            p.monthly_wage = rng.randint(low // 100, high // 100) * 100

    def incomes(self, persons: list[_Person], *, hardship: bool) -> dict[str, Decimal]:
        """The household's income fields for the year; may shorten months worked (see below)."""
        rng = self.rng
        size = len(persons)
        earners = [p for p in persons if p.employment_status in WAGE_JOBS]
        farmers = [p for p in persons if p.employment_status == c.EmploymentStatus.SELF_EMPLOYED]
        operating = sum(rng.randint(40, 80 if hardship else 160) * 100 for _farmer in farmers)
        if not farmers and rng.random() < 0.35:
            operating += rng.randint(5, 30) * 100  # a vegetable plot, a few pigs
        expense_rate = rng.uniform(0.25, 0.45)
        property_roll = rng.random()
        property_income = (
            0
            if property_roll < 0.55
            else rng.randint(1, 15) * 100
            if property_roll < 0.95
            else rng.randint(20, 50) * 100
        )
        transfer = rng.randint(2, 8) * 100  # farmland and ecological subsidies
        for p in persons:
            if p.age >= 60 and p.has_pension_insurance:
                transfer += 12 * rng.randint(125, 200)
            if p.social_assistance == c.SocialAssistance.DIBAO:
                transfer += 12 * rng.randint(50, 64) * 10
            elif p.social_assistance == c.SocialAssistance.TEKUN:
                transfer += 12 * rng.randint(90, 110) * 10
            if p.health_status == c.HealthStatus.DISABLED:
                transfer += 12 * 80  # living and nursing subsidies for the disabled
        if any(p.age >= 60 for p in persons) and rng.random() < 0.6:
            transfer += rng.randint(20, 80) * 100  # support from children living elsewhere (赡养费)

        def per_capita() -> float:
            wage = sum(p.months_employed * p.monthly_wage for p in earners)
            return (wage + operating * (1 - expense_rate) + property_income + transfer) / size

        if hardship:
            # Households still at risk sit near or under the line: fewer months of work.
            ceiling = rng.randint(70, 105) * 100
            while per_capita() > ceiling and any(p.months_employed > 1 for p in earners):
                busiest = max(
                    (p for p in earners if p.months_employed > 1), key=lambda p: p.monthly_wage
                )
                busiest.months_employed -= 1
            if per_capita() > ceiling:
                operating = max(0, operating - (per_capita() - ceiling) * size / (1 - expense_rate))
            floor = rng.randint(40, 65) * 100
            if per_capita() < floor:
                transfer += (
                    floor - per_capita()
                ) * size  # temporary relief (临时救助) and relatives' help
        elif per_capita() < 9500 and rng.random() < 0.9:
            # Households not at risk are mostly above the line: the gap comes from relatives'
            # support where someone is old or at school, from farming otherwise.
            gap = (rng.randint(95, 140) * 100 - per_capita()) * size
            if any(p.age >= 60 or p.student for p in persons):
                transfer += gap
            else:
                operating += gap / (1 - expense_rate)

        wage = sum(p.months_employed * p.monthly_wage for p in earners)
        if any(p.health_status == c.HealthStatus.SERIOUS_ILLNESS for p in persons):
            out_of_pocket = rng.randint(80, 600) * 100
        elif any(p.health_status == c.HealthStatus.CHRONIC for p in persons):
            out_of_pocket = rng.randint(5, 50) * 100
        else:
            out_of_pocket = rng.randint(0, 8) * 100
        return {
            "wage_income": _money(wage),
            "operating_income": _money(operating),
            "property_income": _money(property_income),
            "transfer_income": _money(transfer),
            "productive_expenses": _money(operating * expense_rate),
            "compliant_out_of_pocket": _money(out_of_pocket),
        }

    def monitoring(self, household_type: str, persons: list[_Person]) -> dict[str, str]:
        """Category, status and months: every 监测户, and about 8 % of 脱贫户, the vulnerable first."""
        rng = self.rng
        category = ""
        if household_type == c.HouseholdType.MONITORED:
            category = (
                c.MonitoringCategory.MARGINAL
                if rng.random() < 0.7
                else c.MonitoringCategory.SUDDEN_HARDSHIP
            )
        elif household_type == c.HouseholdType.POVERTY_EXITED:
            vulnerability = (
                2 * any(p.health_status == c.HealthStatus.SERIOUS_ILLNESS for p in persons)
                + 1.5 * any(p.severely_disabled for p in persons)
                + 0.5 * any(p.health_status == c.HealthStatus.DISABLED for p in persons)
                + _few_workers(persons)
                + 0.5 * (sum(p.student for p in persons) >= 2)
            )
            if rng.random() < 0.047 * (1 + vulnerability):
                category = (
                    c.MonitoringCategory.UNSTABLE_EXITED
                    if rng.random() < 0.75
                    else c.MonitoringCategory.SUDDEN_HARDSHIP
                )
        fields = {
            "monitoring_category": category,
            "monitoring_status": c.MonitoringStatus.NOT_MONITORED,
            "identified_month": "",
            "eliminated_month": "",
            "elimination_method": "",
        }
        if not category:
            return fields
        first, last = _month_index(*FIRST_MONITORING_MONTH), _month_index(*LAST_MONITORING_MONTH)
        start = rng.randint(first, last)
        end = start + rng.randint(6, 30)
        fields["identified_month"] = _month_text(start)
        fields["monitoring_status"] = c.MonitoringStatus.RISK_UNRESOLVED
        if end <= last and rng.random() < 0.7:
            fields["monitoring_status"] = c.MonitoringStatus.RISK_ELIMINATED
            fields["eliminated_month"] = _month_text(end)
            fields["elimination_method"] = (
                c.EliminationMethod.ASSISTED if rng.random() < 0.8 else c.EliminationMethod.NATURAL
            )
        return fields

    def social_assistance(self, persons: list[_Person], *, monitored: bool, hardship: bool) -> None:
        """特困 for lone old people who cannot work; 低保 for households in difficulty."""
        rng = self.rng
        head = persons[0]
        if len(persons) == 1:
            if (
                head.age >= 60
                and head.labour_skill in (c.LabourSkill.NONE, c.LabourSkill.LOST)
                and rng.random() < 0.6
            ):
                head.social_assistance = c.SocialAssistance.TEKUN
            return
        vulnerable = any(
            p.health_status == c.HealthStatus.SERIOUS_ILLNESS or p.severely_disabled
            for p in persons
        )
        if rng.random() >= (0.30 if hardship else 0.15 if monitored or vulnerable else 0.02):
            return
        whole_household = rng.random() < 0.7
        for p in persons:
            # Otherwise 单人保: only those who cannot support themselves.
            if whole_household or (
                p.labour_skill in (c.LabourSkill.LOST, c.LabourSkill.NONE) and p.age >= 16
            ):
                p.social_assistance = c.SocialAssistance.DIBAO
        if not any(p.social_assistance == c.SocialAssistance.DIBAO for p in persons):
            head.social_assistance = c.SocialAssistance.DIBAO

    def risk_types(
        self, persons: list[_Person], *, category: str, housing_secure: bool, water_secure: bool
    ) -> list[str]:
        """One to three risk types, each explained by the members or the home."""
        rng = self.rng
        evidence = []
        if any(p.health_status == c.HealthStatus.SERIOUS_ILLNESS for p in persons) or (
            any(p.health_status == c.HealthStatus.CHRONIC for p in persons) and rng.random() < 0.3
        ):
            evidence.append(c.RiskType.ILLNESS)
        if any(p.health_status == c.HealthStatus.DISABLED for p in persons):
            evidence.append(c.RiskType.DISABILITY)
        if _few_workers(persons):
            evidence.append(c.RiskType.LACK_OF_LABOUR)
        if any(p.student for p in persons):
            evidence.append(c.RiskType.SCHOOLING)
        if any(
            (p.capable and p.employment_status == c.EmploymentStatus.NOT_WORKING)
            or 0 < p.months_employed < 6
            for p in persons
        ):
            evidence.append(c.RiskType.UNSTABLE_EMPLOYMENT)
        if not housing_secure:
            evidence.append(c.RiskType.HOUSING)
        if not water_secure:
            evidence.append(c.RiskType.DRINKING_WATER)
        count = _weighted(rng, ((1, 55), (2, 35), (3, 10)))
        # Sudden hardship often comes from an event the members' data cannot show.
        events = []
        if not evidence or (
            category == c.MonitoringCategory.SUDDEN_HARDSHIP and rng.random() < 0.4
        ):
            events.append(
                rng.choice(
                    [c.RiskType.ACCIDENT, c.RiskType.NATURAL_DISASTER, c.RiskType.INDUSTRY_FAILURE]
                )
            )
        # Unsafe housing or water always shows. The rest mostly keeps the order above, which puts
        # illness and disability first, as in the real registers.
        forced = [r for r in evidence if r in (c.RiskType.HOUSING, c.RiskType.DRINKING_WATER)]
        others = [r for r in evidence if r not in forced]
        if rng.random() < 0.3:
            rng.shuffle(others)
        return (events + forced + others)[: max(count, len(events) + len(forced))]

    def relocation(self, household_type: str, village: DemoVillage) -> tuple[str, str]:
        """(site, mode) for the ~10 % of households relocated (易地扶贫搬迁), all formerly poor."""
        rng = self.rng
        if household_type != c.HouseholdType.POVERTY_EXITED or rng.random() >= 0.14:
            return "", ""
        if rng.random() < 0.75:
            site = RELOCATION_SITES.get(village.township_code) or rng.choice(
                COUNTY_RELOCATION_SITES
            )
            return site, c.RelocationMode.CENTRALISED
        return f"{village.township_name}分散安置", c.RelocationMode.DISPERSED

    # ---- households ---------------------------------------------------------------------------

    def household(
        self, number: str, village: DemoVillage, grid_member_id: int | None
    ) -> HouseholdRecord:
        rng = self.rng
        persons = self.people(_weighted(rng, HOUSEHOLD_SIZES), village.township_code)
        roll = rng.random()
        household_type = (
            c.HouseholdType.POVERTY_EXITED
            if roll < 0.70
            else c.HouseholdType.ORDINARY
            if roll < 0.95
            else c.HouseholdType.MONITORED
        )
        monitoring = self.monitoring(household_type, persons)
        hardship = monitoring["monitoring_status"] == c.MonitoringStatus.RISK_UNRESOLVED
        for p in persons:
            self.employment(p, hardship=hardship)
        self.social_assistance(
            persons, monitored=bool(monitoring["monitoring_category"]), hardship=hardship
        )
        incomes = self.incomes(persons, hardship=hardship)
        housing_secure = rng.random() >= (0.06 if hardship else 0.01)
        water_secure = rng.random() >= (0.04 if hardship else 0.008)
        risks: list[str] = []
        if monitoring["monitoring_category"]:
            risks = self.risk_types(
                persons,
                category=monitoring["monitoring_category"],
                housing_secure=housing_secure,
                water_secure=water_secure,
            )
        site, mode = self.relocation(household_type, village)

        phone = (
            ""
            if rng.random() < 0.03
            else rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        )
        members = [
            MemberRecord(
                id_number=parse_id_number(p.id_number, today=REFERENCE_DATE),
                fields=p.member_fields(),
            )
            for p in persons
        ]
        fields: dict[str, Any] = {
            "village_id": village.code,
            "household_type": household_type,
            **monitoring,
            **{f"risk_type_{i}": (risks[i - 1] if i <= len(risks) else "") for i in range(1, 6)},
            "income_year": INCOME_YEAR,
            **incomes,
            "housing_secure": housing_secure,
            "drinking_water_secure": water_secure,
            "relocated": bool(site),
            "relocation_site": site,
            "relocation_mode": mode,
            "grid_member_id": grid_member_id,
        }
        return HouseholdRecord(household_number=number, fields=fields, phone=phone, members=members)


def _few_workers(persons: list[_Person]) -> bool:
    """No one of working age able to work, or one worker for three or more people."""
    workers = sum(p.capable and 16 <= p.age <= 64 for p in persons)
    return workers == 0 or (workers == 1 and len(persons) >= 3)


def _allocate(rng: random.Random, villages: Sequence[DemoVillage], households: int) -> list[int]:
    """Households per village: rural villages weigh about four times an urban community."""
    weights = [(rng.uniform(3.0, 5.5) if v.rural else rng.uniform(0.6, 1.4)) for v in villages]
    total = sum(weights)
    shares = [households * w / total for w in weights]
    counts = [int(s) for s in shares]
    # Largest remainders take the households lost to rounding down.
    by_remainder = sorted(
        range(len(villages)), key=lambda i: (shares[i] - counts[i], -i), reverse=True
    )
    for i in by_remainder[: households - sum(counts)]:
        counts[i] += 1
    demo = next((i for i, v in enumerate(villages) if v.code == DEMO_VILLAGE), None)
    if demo is not None:
        floor = min(DEMO_VILLAGE_MIN_HOUSEHOLDS, households // 20)
        while counts[demo] < floor:
            donor = max(range(len(villages)), key=lambda i: (counts[i] if i != demo else -1, -i))
            counts[donor] -= 1
            counts[demo] += 1
    return counts


def demo_generate(
    *,
    seed: int,
    households: int,
    villages: Sequence[DemoVillage],
    grid_member_id: int | None = None,
) -> list[HouseholdRecord]:
    """The demo registry's records, the same for the same arguments.

    ``grid_member_id`` is set as grid member on about two thirds of the demo village's households.
    """
    if not 1 <= households <= MAX_HOUSEHOLDS:
        raise ApplicationError(_("演示农户数应在 1 到 %(max)d 之间") % {"max": MAX_HOUSEHOLDS})
    if not villages:
        raise ApplicationError(_("没有可用的行政村（社区），请先加载区划"))
    generator = _Generator(seed)
    ordered = sorted(villages, key=lambda v: v.code)
    counts = _allocate(generator.rng, ordered, households)
    records: list[HouseholdRecord] = []
    for village, count in zip(ordered, counts, strict=True):
        for sequence in range(1, count + 1):
            on_grid = village.code == DEMO_VILLAGE and generator.rng.random() < 0.67
            records.append(
                generator.household(
                    f"{village.code}{sequence:04d}", village, grid_member_id if on_grid else None
                )
            )
    return records


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class DemoAccountRow:
    username: str
    display_name: str
    role: str
    area: str
    password: str


@dataclass
class DemoBuildResult:
    skipped: bool = False
    households: int = 0
    members: int = 0
    replaced_households: int = 0
    bulk: BulkResult = field(default_factory=BulkResult)
    accounts: list[DemoAccountRow] = field(default_factory=list)


def demo_villages(*, county_code: str = DEMO_COUNTY_CODE) -> list[DemoVillage]:
    """The county's villages with their townships, from the loaded division tree."""
    rows = (
        Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith=county_code)
        .select_related("parent")
        .order_by("code")
    )
    return [DemoVillage(d.code, d.name, d.parent.code[:9], d.parent.name) for d in rows]


def demo_accounts_list() -> list[DemoAccountRow]:
    """The demo accounts that exist, in the order of DEMO_ACCOUNTS, with the shared password."""
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[a.username for a in DEMO_ACCOUNTS]
        ).prefetch_related("divisions")
    }
    rows = []
    for account in DEMO_ACCOUNTS:
        user = users.get(account.username)
        if user is None:
            continue
        role = user.get_role_display()
        if user.department:
            role = f"{role}（{user.get_department_display()}）"
        area = "、".join(_area_name(d) for d in user.divisions.all())
        rows.append(
            DemoAccountRow(user.username, user.display_name, str(role), area, DEMO_PASSWORD)
        )
    return rows


def _area_name(division: Division) -> str:
    if division.level == DivisionLevel.VILLAGE and division.parent_id:
        return f"{division.parent.name} {division.name}"
    return division.name


def _ensure_accounts() -> dict[str, User]:
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        created = user is None
        if user is None:
            user = User(username=account.username)
        before = {
            "role": user.role,
            "department": user.department,
            "display_name": user.display_name,
        }
        user.role = account.role
        user.department = account.department
        user.display_name = account.display_name
        user.is_active = True
        # The printed password must be true: reset it when it was changed.
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.save()
        user.divisions.set([account.division])
        after = {
            "role": user.role,
            "department": user.department,
            "display_name": user.display_name,
        }
        if created or before != after:
            audit_record(
                actor=None,
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                target=user,
                before=None if created else before,
                after={**after, "divisions": [account.division]},
                extra={"source": "demo"},
            )
        users[account.username] = user
    return users


def _conflicts(records: list[HouseholdRecord]) -> tuple[list[str], list[int]]:
    """Households the demo would not write, and demo-numbered households holding other people.

    The second list (household pks) are those an upsert cannot reconcile: they hold members this
    seed does not generate for them, for instance from a build with another seed.
    """
    wanted = {
        r.household_number: {crypto.blind_index(m.id_number.value) for m in r.members}
        for r in records
    }
    existing = dict(Household.objects.values_list("household_number", "pk"))
    foreign = sorted(set(existing) - set(wanted))
    stale: set[int] = set()
    if len(existing) > len(foreign):
        pairs = Member.objects.values_list("household__household_number", "id_number_index")
        for number, index in pairs.iterator(chunk_size=5000):
            if number in wanted and index not in wanted[number]:
                stale.add(existing[number])
    return foreign, sorted(stale)


@transaction.atomic
def demo_build(
    *,
    actor: User | None,
    seed: int = DEMO_SEED,
    households: int = DEMO_HOUSEHOLDS,
    if_empty: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoBuildResult:
    """Load Wulong (unless loaded), create the demo accounts and write the demo registry.

    ``if_empty`` does nothing when any household exists. Without ``force`` the build refuses a
    database that holds households the demo would not write (a real registry, another size) or
    demo households with other people in them (another seed); with it, the former are left as
    they are and the latter are deleted and written anew.
    """
    if if_empty and Household.objects.exists():
        return DemoBuildResult(skipped=True, accounts=demo_accounts_list())
    if not Division.objects.filter(
        level=DivisionLevel.VILLAGE, code__startswith=DEMO_COUNTY_CODE
    ).exists():
        # Loading reads the national village list (a few seconds); a loaded county is complete,
        # since the load is one transaction.
        divisions_load_county(county_code=DEMO_COUNTY_CODE, actor=actor)
    users = _ensure_accounts()
    records = demo_generate(
        seed=seed,
        households=households,
        villages=demo_villages(),
        grid_member_id=users[DEMO_VILLAGE_ACCOUNT].pk,
    )
    result = DemoBuildResult(households=len(records), members=sum(len(r.members) for r in records))
    foreign, stale = _conflicts(records)
    if (foreign or stale) and not force:
        raise ApplicationError(
            _(
                "数据库中已有本次演示不会生成的农户 %(foreign)d 户、成员与本次演示不一致的农户 %(stale)d 户"
                "（真实数据，或其他种子、户数生成的演示数据）；如确需写入，请加 --force："
                "前者保持不变，后者删除后重建"
            )
            % {"foreign": len(foreign), "stale": len(stale)},
            extra={"foreign": len(foreign), "stale": len(stale)},
        )
    if stale:
        # The cases app builds on the registry; imported here so the registry does not
        # depend on it at import time.
        from shouwang.cases.demo import demo_records_delete

        demo_records_delete(actor=actor, household_ids=stale)
        households_bulk_delete(actor=actor, household_ids=stale, source="demo")
        result.replaced_households = len(stale)
    total = len(records)
    for start in range(0, total, WRITE_CHUNK):
        chunk = records[start : start + WRITE_CHUNK]

        def report(done: int, _chunk_total: int, offset: int = start) -> None:
            if progress is not None:
                progress(offset + done, total)

        part = registry_bulk_upsert(actor=actor, records=chunk, progress=report, source="demo")
        for name in vars(result.bulk):
            setattr(result.bulk, name, getattr(result.bulk, name) + getattr(part, name))
    _refresh_planner_statistics()
    result.accounts = demo_accounts_list()
    return result


def _refresh_planner_statistics() -> None:
    """ANALYZE the registry tables after a bulk load.

    Until autovacuum gets to it, PostgreSQL plans the freshly filled tables as nearly empty: the
    list page's query then joins every household before sorting (80 ms instead of 0.3 ms).
    """
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    with connection.cursor() as cursor:
        for model in (Household, Member):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
