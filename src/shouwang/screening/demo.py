"""Department feeds for the Wulong demo district, staged through the real import path.

``demo_feeds_build`` writes two months of synthetic department files (CSV in UTF-8, UTF-8
with BOM or GB18030, one .xlsx) about the people of the demo registry, plus residents who are
not in it, imports each with ``feed_batch_import`` and runs one screening. Most rows are
routine (an outpatient visit, an A-grade appraisal, an elderly person's death); a small share
is chosen so that every default rule flags someone, including people the registry does not
know ("possible new monitoring object").

The rows depend only on the seed, the period and the registry's people, so a rerun writes
byte-identical files, which the importer recognises (same SHA-256) and does not stage twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db.models import Q
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.exceptions import ApplicationError
from shouwang.core.idnumber import make_id_number
from shouwang.core.models import User
from shouwang.registry import choices as c
from shouwang.registry.demo import (
    DEMO_COUNTY_CODE,
    DEMO_HOUSEHOLDS,
    DEMO_SEED,
    DEMO_VILLAGE,
    GIVEN_CHARS,
    RETIRED_COUNTY_CODE,
    SURNAMES,
    demo_villages,
)
from shouwang.registry.io.columns import division_short_name
from shouwang.registry.io.services import file_sha256
from shouwang.registry.models import Household, Member
from shouwang.screening.choices import BatchStatus, RunStatus, RunTrigger
from shouwang.screening.feeds.services import feed_batch_import
from shouwang.screening.models import FeedBatch, FeedSource, ScreeningRun
from shouwang.screening.services import screening_run

#: Fixed rather than "last month" so the same seed always gives the same files: the month
#: after the demo registry's last monitoring month (2026-09).
DEMO_FEED_PERIOD = "2026-10"
Progress = Callable[[int, int], None]

_CAPABLE = c.LABOUR_CAPABLE
_STAGE_LABELS = {
    c.SchoolStatus.PRESCHOOL: "学前",
    c.SchoolStatus.PRIMARY: "小学",
    c.SchoolStatus.JUNIOR: "初中",
    c.SchoolStatus.SENIOR: "普通高中",
    c.SchoolStatus.SECONDARY_VOCATIONAL: "中职",
    c.SchoolStatus.HIGHER_VOCATIONAL: "高职",
    c.SchoolStatus.UNDERGRADUATE: "本科",
}
# fmt: off
_OUTPATIENT_DIAGNOSES = (
    "上呼吸道感染", "急性支气管炎", "慢性胃炎", "腰椎间盘突出症", "膝关节骨性关节炎", "高血压",
    "2型糖尿病", "龋齿", "过敏性皮炎", "急性胃肠炎", "颈椎病", "结膜炎",
)
_SPECIAL_DIAGNOSES = (
    "高血压（Ⅲ级）", "2型糖尿病伴并发症", "慢性阻塞性肺疾病", "冠状动脉粥样硬化性心脏病",
    "精神分裂症", "类风湿关节炎", "慢性肾功能不全", "脑梗死后遗症",
)
_INPATIENT_DIAGNOSES = (
    "社区获得性肺炎", "胆囊结石伴胆囊炎", "急性阑尾炎", "股骨颈骨折", "脑梗死",
    "慢性阻塞性肺疾病急性加重", "冠心病", "腹股沟疝", "子宫肌瘤", "白内障", "2型糖尿病",
    "高血压性心脏病",
)
_SEVERE_DIAGNOSES = (
    "肺恶性肿瘤", "胃恶性肿瘤", "肝恶性肿瘤", "急性心肌梗死", "脑出血", "慢性肾衰竭（尿毒症期）",
    "急性白血病", "乳腺恶性肿瘤", "重症胰腺炎", "颅脑损伤",
)
_MAJOR_DISEASES = (
    "肺癌", "胃癌", "肝癌", "食管癌", "结直肠癌", "乳腺癌", "宫颈癌", "尿毒症", "急性白血病",
    "重性精神病", "耐多药肺结核", "先天性心脏病", "血友病",
)
_HOSPITALS = (
    "武隆区人民医院", "武隆区中医院", "重庆医科大学附属第一医院", "陆军军医大学第二附属医院",
    "重庆大学附属肿瘤医院", "重庆市涪陵中心医院",
)
_DISABILITY_TYPES = (
    ("肢体残疾", 45), ("视力残疾", 12), ("听力残疾", 12), ("言语残疾", 3), ("智力残疾", 10),
    ("精神残疾", 10), ("多重残疾", 8),
)
_EMPLOYERS = (
    "重庆仙女山旅游开发有限公司", "武隆区白马山茶业有限公司", "重庆武隆喀斯特旅游集团",
    "武隆区城市建设投资公司", "浙江宁波鸿达电子有限公司", "广东东莞永盛五金厂",
    "福建晋江华丰鞋业有限公司", "重庆长安汽车股份有限公司", "武隆区羊角豆干厂",
    "武隆区江口镇蔬菜专业合作社", "重庆建工集团武隆项目部", "江苏苏州精工科技有限公司",
)
_WATER_CAUSES = (
    "管网维修", "水源水量不足", "停电", "管道爆裂", "水池清洗消毒", "取水口淤塞",
)
# fmt: on


def _weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _w in table], weights=[w for _v, w in table])[0]


def _months(period: str) -> tuple[str, str]:
    """The period and the month before it."""
    year, month = (int(p) for p in period.split("-"))
    index = year * 12 + month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}", period


def _day(rng: random.Random, month: str, low: int = 1, high: int = 28) -> dt.date:
    year, number = (int(p) for p in month.split("-"))
    return dt.date(year, number, rng.randint(low, high))


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _money(value: float) -> str:
    return f"{Decimal(str(round(value, 2))):.2f}"


# --- the registry as the generator sees it ----------------------------------------------------


@dataclass
class _Person:
    name: str
    birth: dt.date
    sex: str
    village: str = ""
    household: _Household | None = None
    relation: str = ""
    school_status: str = ""
    health_status: str = ""
    disability_grade: str = ""
    labour_skill: str = ""
    social_assistance: str = ""
    encrypted: str = ""
    raw_id: str = ""

    @property
    def id_number(self) -> str:
        if not self.raw_id:
            self.raw_id = crypto.decrypt(self.encrypted)
        return self.raw_id

    @property
    def capable(self) -> bool:
        return self.labour_skill in _CAPABLE


@dataclass
class _Household:
    number: str
    village: str
    household_type: str
    monitoring_status: str
    housing_secure: bool
    members: list[_Person] = field(default_factory=list)

    @property
    def head(self) -> _Person:
        return next((m for m in self.members if m.relation == c.Relation.HEAD), self.members[0])

    @property
    def labour_count(self) -> int:
        return sum(m.capable for m in self.members)

    @property
    def watched(self) -> bool:
        """In the populations the water and revocation rules look at."""
        return (
            self.monitoring_status != c.MonitoringStatus.NOT_MONITORED
            or self.household_type == c.HouseholdType.POVERTY_EXITED
        )


class _World:
    """The registry's households and people, villages, and residents the registry lacks."""

    def __init__(self, rng: random.Random, reference: dt.date) -> None:
        self.rng = rng
        self.reference = reference
        self.villages = {v.code: v for v in demo_villages()}
        self.households: list[_Household] = []
        by_pk: dict[int, _Household] = {}
        rows = Household.objects.order_by("household_number").values_list(
            "pk",
            "household_number",
            "village_id",
            "household_type",
            "monitoring_status",
            "housing_secure",
        )
        for pk, number, village, kind, status, housing in rows:
            household = _Household(number, village, kind, status, housing)
            by_pk[pk] = household
            self.households.append(household)
        # Sorted by what the data says, not by primary keys, which differ between databases.
        members = Member.objects.order_by(
            "household__household_number", "birth_date", "name", "sex", "pk"
        ).values_list(
            "household_id",
            "name",
            "birth_date",
            "sex",
            "relation",
            "school_status",
            "health_status",
            "disability_grade",
            "labour_skill",
            "social_assistance",
            "id_number_encrypted",
            "id_number_index",
        )
        self.indexes: set[str] = set()
        self.people: list[_Person] = []
        for (
            household_id,
            name,
            birth,
            sex,
            relation,
            school,
            health,
            grade,
            skill,
            assistance,
            encrypted,
            index,
        ) in members.iterator(chunk_size=5000):
            household = by_pk[household_id]
            person = _Person(
                name=name,
                birth=birth,
                sex=sex,
                village=household.village,
                household=household,
                relation=relation,
                school_status=school,
                health_status=health,
                disability_grade=grade,
                labour_skill=skill,
                social_assistance=assistance,
                encrypted=encrypted,
            )
            household.members.append(person)
            self.people.append(person)
            self.indexes.add(index)
        self.households = [h for h in self.households if h.members]
        self.village_codes = sorted({h.village for h in self.households} & set(self.villages))
        self.used: set[str] = set()

    # ---- helpers ---------------------------------------------------------------------------

    def label(self, village: str) -> str:
        """How departments write a village: township and short name (``火炉镇向前村``)."""
        if not village:
            return ""
        v = self.villages[village]
        return f"{v.township_name}{division_short_name(v.name)}"

    def age(self, person: _Person) -> int:
        return _age(person.birth, self.reference)

    def pick(self, pool: Sequence[Any], k: int, *, exclude: set[int] | None = None) -> list[Any]:
        """Up to ``k`` distinct items of ``pool``; ``exclude`` holds ids of items taken before."""
        candidates = [p for p in pool if exclude is None or id(p) not in exclude]
        chosen = self.rng.sample(candidates, min(k, len(candidates)))
        if exclude is not None:
            exclude.update(id(p) for p in chosen)
        return chosen

    def given_name(self, sex: str, birth: dt.date) -> str:
        era = "old" if birth.year < 1965 else "mid" if birth.year < 1995 else "young"
        chars = GIVEN_CHARS[(era, sex)]
        length = 1 if self.rng.random() < 0.25 else 2
        return "".join(self.rng.choice(chars) for _position in range(length))

    def stranger(
        self,
        *,
        age_range: tuple[int, int] = (18, 80),
        village: str | None = None,
        born: dt.date | None = None,
    ) -> _Person:
        """A resident of the district who is not in the registry, with a valid Wulong ID.

        ``village`` None draws one (most department rows carry an address); "" leaves it out.
        """
        rng = self.rng
        sex = rng.choice(["male", "female"])
        if born is None:
            age = rng.randint(*age_range)
            born = self.reference.replace(year=self.reference.year - age) - dt.timedelta(
                days=rng.randrange(365)
            )
        address = (
            RETIRED_COUNTY_CODE
            if _age(born, self.reference) >= 30 and rng.random() < 0.3
            else DEMO_COUNTY_CODE
        )
        while True:
            value = make_id_number(address, born, rng.randrange(500) * 2 + (sex == "male"))
            index = crypto.blind_index(value)
            if index not in self.indexes:
                self.indexes.add(index)
                break
        if village is None:
            village = rng.choice(self.village_codes) if self.village_codes else ""
        surname = _weighted(rng, SURNAMES)
        return _Person(
            name=surname + self.given_name(sex, born),
            birth=born,
            sex=sex,
            village=village,
            raw_id=value,
            labour_skill=c.LabourSkill.ORDINARY,
        )


# --- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    source: str
    period: str
    name: str
    headers: tuple[str, ...]
    rows: list[list[Any]]
    encoding: str = "utf-8"  # or "utf-8-sig", "gb18030", "xlsx"
    title: str = ""
    total_row: list[Any] | None = None


def _write(file: _File, directory: Path) -> Path:
    path = directory / file.name
    if file.encoding == "xlsx":
        _write_xlsx(file, path)
        return path
    with path.open("w", encoding=file.encoding, newline="") as handle:
        writer = csv.writer(handle)
        if file.title:
            writer.writerow([file.title])
        writer.writerow(file.headers)
        for row in file.rows:
            writer.writerow([v.isoformat() if isinstance(v, dt.date) else v for v in row])
        if file.total_row:
            writer.writerow(file.total_row)
    return path


def _write_xlsx(file: _File, path: Path) -> None:
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    # A fixed creation time keeps the file byte-identical between runs (it is hashed).
    book.set_properties({"created": dt.datetime(2026, 11, 1, 9, 0, 0)})
    try:
        sheet = book.add_worksheet("鉴定结果")
        bold = book.add_format({"bold": True})
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        for index, header in enumerate(file.headers):
            sheet.write_string(0, index, header, bold)
            sheet.set_column(index, index, 22 if index in (0, 4) else 14)
        for number, row in enumerate(file.rows, start=1):
            for index, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(number, index, dt.datetime.combine(value, dt.time()), date)
                else:
                    sheet.write_string(number, index, str(value))
    finally:
        book.close()


# --- the feeds --------------------------------------------------------------------------------


class _Feeds:
    def __init__(self, world: _World, period: str, scale: float) -> None:
        self.w = world
        self.rng = world.rng
        self.previous, self.current = _months(period)
        self.scale = scale

    def n(self, full: float, minimum: int = 0) -> int:
        """A count at the full demo's size, scaled to this registry, never below ``minimum``."""
        return max(minimum, round(full * self.scale))

    def ym(self, month: str) -> str:
        year, number = month.split("-")
        return f"{year}年{int(number)}月"

    def tag(self, month: str) -> str:
        return month.replace("-", "")

    # ---- 医保 --------------------------------------------------------------------------------

    def medical(self) -> list[_File]:
        w, rng = self.w, self.rng
        people = w.people
        chronic = [
            p
            for p in people
            if p.health_status in (c.HealthStatus.CHRONIC, c.HealthStatus.SERIOUS_ILLNESS)
        ]
        serious = [p for p in people if p.health_status == c.HealthStatus.SERIOUS_ILLNESS]
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def visit(person: _Person, month: str, kind: str, oop: float, diagnosis: str = "") -> None:
            share = {"住院": rng.uniform(0.15, 0.35), "门诊特殊疾病": rng.uniform(0.2, 0.4)}.get(
                kind, rng.uniform(0.4, 0.7)
            )
            total = oop / share
            if not diagnosis:
                table = {"住院": _INPATIENT_DIAGNOSES, "门诊特殊疾病": _SPECIAL_DIAGNOSES}
                diagnosis = rng.choice(table.get(kind, _OUTPATIENT_DIAGNOSES))
            village = w.label(person.village) if rng.random() < 0.9 else ""
            rows[month].append(
                [
                    person.id_number,
                    person.name,
                    _day(rng, month),
                    kind,
                    _money(total),
                    _money(total - oop),
                    _money(oop),
                    diagnosis,
                    village,
                ]
            )

        strangers = [w.stranger() for _i in range(self.n(400, 20))]
        for month in (self.previous, self.current):
            for person in w.pick(people, self.n(500, 40)):
                visit(person, month, rng.choice(["普通门诊", "门诊"]), rng.uniform(10, 300))
            for person in w.pick(chronic, self.n(150, 10)):
                visit(person, month, "门诊特殊疾病", rng.uniform(100, 1500))
            for person in w.pick(people, self.n(120, 10)):
                visit(person, month, "住院", rng.uniform(800, 4500))
            # Residents outside the registry see doctors too; their amounts stay ordinary.
            for person in w.pick(strangers, self.n(150, 10)):
                if rng.random() < 0.8:
                    visit(person, month, "普通门诊", rng.uniform(10, 400))
                else:
                    visit(person, month, "住院", rng.uniform(800, 6000))

        taken: set[int] = set()
        # One large stay in the demo village, so its cadre has something to look at.
        home = [p for p in serious if p.village == DEMO_VILLAGE]
        large = w.pick(home, 1, exclude=taken) + w.pick(
            serious or people, self.n(13, 2), exclude=taken
        )
        for person in large:
            visit(
                person,
                self.current,
                "住院",
                rng.uniform(5200, 16000),
                rng.choice(_SEVERE_DIAGNOSES),
            )
            if rng.random() < 0.6:
                visit(person, self.previous, "门诊特殊疾病", rng.uniform(1500, 6000))
        # Many smaller bills that add up over the year: only the 12-month rule sees them.
        for person in w.pick(chronic, self.n(8, 1), exclude=taken):
            first, second = rng.uniform(4200, 4900), rng.uniform(4000, 4900)
            # Just over the line (11,559.50 in 2026) without landing on a round total.
            third = rng.uniform(11650, 13000) - first - second
            visit(person, self.previous, "住院", first)
            visit(person, self.current, "住院", second)
            visit(person, self.current, "门诊特殊疾病", third)
        # People not in the registry with ruinous bills: possible new monitoring objects.
        for village in (None, None, ""):
            person = w.stranger(age_range=(35, 75), village=village)
            visit(
                person,
                self.current,
                "住院",
                rng.uniform(24500, 38000),
                rng.choice(_SEVERE_DIAGNOSES),
            )

        headers = (
            "身份证号码",
            "姓名",
            "结算日期",
            "就诊类别",
            "医疗总费用",
            "报销金额",
            "个人自付金额",
            "主要诊断",
            "所在村（社区）",
        )
        # The earlier export used other names for the same columns; the aliases map them.
        old_headers = (
            "公民身份号码",
            "参保人姓名",
            "费用结算日期",
            "医疗类别",
            "总费用",
            "统筹支付金额",
            "个人自付",
            "疾病名称",
            "村（社区）",
        )
        files = []
        for month in (self.previous, self.current):
            body = sorted(rows[month], key=lambda r: (r[2], r[0]))
            if month == self.current:
                # A mistyped check digit: the importer rejects the row and says why.
                bad = list(body[len(body) // 2])
                bad[0] = bad[0][:17] + ("0" if bad[0][17] != "0" else "1")
                body.insert(len(body) // 2 + 1, bad)
            oop_total = sum(Decimal(r[6]) for r in body)
            files.append(
                _File(
                    "medical",
                    month,
                    f"医保结算明细-{self.tag(month)}.csv",
                    old_headers if month == self.previous else headers,
                    body,
                    "gb18030",
                    title=f"武隆区城乡居民医疗费用结算明细（{self.ym(month)}）",
                    total_row=["合计", "", "", "", "", "", f"{oop_total:.2f}", "", ""],
                )
            )
        return files

    # ---- 民政 --------------------------------------------------------------------------------

    def social_assistance(self) -> list[_File]:
        w, rng = self.w, self.rng
        recipients = [
            p
            for p in w.people
            if p.social_assistance in (c.SocialAssistance.DIBAO, c.SocialAssistance.TEKUN)
        ]
        candidates = [
            p
            for p in w.people
            if p.social_assistance == c.SocialAssistance.NONE
            and p.household is not None
            and (
                p.household.monitoring_status == c.MonitoringStatus.RISK_UNRESOLVED
                or p.health_status == c.HealthStatus.SERIOUS_ILLNESS
            )
        ]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def row(person: _Person, month: str, kind: str, change: str, amount: float) -> None:
            rows[month].append(
                [
                    person.id_number,
                    person.name,
                    _day(rng, month),
                    kind,
                    change,
                    _money(amount),
                    w.label(person.village),
                ]
            )

        def monthly(person: _Person) -> tuple[str, float]:
            if person.social_assistance == c.SocialAssistance.TEKUN:
                return "特困供养", rng.randint(90, 110) * 10
            return "低保", rng.randint(50, 64) * 10

        for month in (self.previous, self.current):
            for person in w.pick(recipients, self.n(60, 5), exclude=taken):
                kind, amount = monthly(person)
                row(person, month, kind, "调整", amount)
            pool = w.pick(w.people, self.n(30, 5)) + [w.stranger() for _i in range(self.n(10, 2))]
            for person in pool:
                row(person, month, "临时救助", "救助", rng.randint(5, 30) * 100)
            for person in w.pick(candidates, self.n(15, 2), exclude=taken):
                kind = (
                    "特困" if w.age(person) >= 65 and len(person.household.members) == 1 else "低保"
                )
                row(
                    person,
                    month,
                    kind,
                    "新增",
                    rng.randint(50, 64) * 10 if kind == "低保" else 1000,
                )
            for person in w.pick(recipients, self.n(12, 2), exclude=taken):
                kind, _amount = monthly(person)
                row(person, month, kind, rng.choice(["退出", "停保"]), 0)
        # 民政 already found this family in need; the registry has not yet.
        stranger = w.stranger(age_range=(40, 70))
        row(stranger, self.current, "低保", "新增", 600)
        headers = (
            "身份证号码",
            "姓名",
            "审批日期",
            "救助类别",
            "变动类型",
            "救助金额",
            "所在村（社区）",
        )
        return [
            _File(
                "social-assistance",
                m,
                f"民政救助变动-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
                "utf-8-sig",
            )
            for m in (self.previous, self.current)
        ]

    # ---- 残联 --------------------------------------------------------------------------------

    def disability(self) -> list[_File]:
        w, rng = self.w, self.rng
        disabled = [p for p in w.people if p.health_status == c.HealthStatus.DISABLED]
        older = [
            p for p in w.people if w.age(p) >= 50 and p.health_status != c.HealthStatus.DISABLED
        ]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}
        for month in (self.previous, self.current):
            # Renewals of existing certificates and new ones, mostly mild grades.
            for person in w.pick(disabled, self.n(15, 2), exclude=taken):
                grade = person.disability_grade or "4"
                rows[month].append(
                    [
                        person.id_number,
                        person.name,
                        _day(rng, month),
                        f"{'一二三四'[int(grade) - 1]}级",
                        _weighted(rng, _DISABILITY_TYPES),
                        w.label(person.village),
                    ]
                )
            for person in w.pick(older, self.n(12, 2), exclude=taken):
                grade = _weighted(rng, (("三级", 40), ("四级", 60)))
                rows[month].append(
                    [
                        person.id_number,
                        person.name,
                        _day(rng, month),
                        grade,
                        _weighted(rng, _DISABILITY_TYPES),
                        w.label(person.village),
                    ]
                )
            for person in w.pick(older, self.n(6, 1), exclude=taken):
                grade = rng.choice(["一级", "二级"])
                rows[month].append(
                    [
                        person.id_number,
                        person.name,
                        _day(rng, month),
                        grade,
                        rng.choice(["肢体残疾", "视力残疾", "精神残疾"]),
                        w.label(person.village),
                    ]
                )
        headers = ("身份证号码", "姓名", "发证日期", "残疾等级", "残疾类别", "所在村（社区）")
        return [
            _File(
                "disability",
                m,
                f"残联办证-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
            )
            for m in (self.previous, self.current)
        ]

    # ---- 教委 --------------------------------------------------------------------------------

    def education(self) -> list[_File]:
        w, rng = self.w, self.rng
        students = [
            p
            for p in w.people
            if p.school_status in _STAGE_LABELS and p.school_status != c.SchoolStatus.PRESCHOOL
        ]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def school(person: _Person, status: str) -> str:
            township = (
                w.villages[person.village].township_name
                if person.village in w.villages
                else "武隆区"
            )
            if (
                status in (c.SchoolStatus.PRIMARY, c.SchoolStatus.DROPPED_OUT)
                and w.age(person) < 12
            ):
                return f"{township}中心小学"
            if status in (c.SchoolStatus.JUNIOR, c.SchoolStatus.DROPPED_OUT):
                return f"{township}初级中学"
            return {
                c.SchoolStatus.SENIOR: "重庆市武隆中学",
                c.SchoolStatus.SECONDARY_VOCATIONAL: "武隆区职业教育中心",
                c.SchoolStatus.HIGHER_VOCATIONAL: "重庆旅游职业学院",
                c.SchoolStatus.UNDERGRADUATE: "重庆师范大学",
            }.get(status, "武隆区实验小学")

        def row(
            person: _Person, month: str, status: str, stage: str, fee: float | None = None
        ) -> None:
            day = _day(rng, month)
            rows[month].append(
                [
                    person.id_number,
                    person.name,
                    f"{day:%Y%m%d}",
                    school(person, person.school_status),
                    stage,
                    status,
                    "" if fee is None else _money(fee),
                    w.label(person.village),
                ]
            )

        for month in (self.previous, self.current):
            for person in w.pick(students, self.n(90, 8), exclude=taken):
                status = _weighted(rng, (("在读", 80), ("转学", 12), ("休学", 3), ("毕业", 5)))
                fee = (
                    rng.uniform(200, 3000)
                    if person.school_status
                    in (c.SchoolStatus.SENIOR, c.SchoolStatus.SECONDARY_VOCATIONAL)
                    else None
                )
                row(person, month, status, _STAGE_LABELS[person.school_status], fee)
        # Compulsory-age children reported out of school: the ones the registry already marks
        # as dropped out first, then pupils who stopped coming.
        dropped = [
            p
            for p in w.people
            if p.school_status == c.SchoolStatus.DROPPED_OUT and 7 <= w.age(p) <= 15
        ]
        pupils = [
            p
            for p in students
            if p.school_status in (c.SchoolStatus.PRIMARY, c.SchoolStatus.JUNIOR)
            and 8 <= w.age(p) <= 15
        ]
        for person in w.pick(dropped, self.n(2, 1), exclude=taken) + w.pick(
            pupils, self.n(2, 1), exclude=taken
        ):
            stage = "初中" if w.age(person) >= 12 else "小学"
            row(
                person,
                rng.choice([self.previous, self.current]),
                rng.choice(["辍学", "疑似辍学"]),
                stage,
            )
        # Past compulsory age: reported, but not for the dropout rule.
        seniors = [
            p for p in students if p.school_status == c.SchoolStatus.SENIOR and w.age(p) >= 17
        ]
        for person in w.pick(seniors, 1, exclude=taken):
            row(person, self.current, "辍学", "普通高中")
        headers = (
            "学生身份证号码",
            "学生姓名",
            "变动日期",
            "学校名称",
            "学段",
            "学籍状态",
            "自付教育费用",
            "所在村（社区）",
        )
        return [
            _File(
                "education",
                m,
                f"教委学籍变动-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
                "gb18030",
            )
            for m in (self.previous, self.current)
        ]

    # ---- 住建 --------------------------------------------------------------------------------

    def housing(self) -> list[_File]:
        w, rng = self.w, self.rng
        month = self.current
        rows: list[list[Any]] = []
        taken: set[int] = set()

        def row(head: _Person, grade: str, village: str) -> None:
            label = w.label(village)
            address = f"{label}{rng.randint(1, 9)}组{rng.randint(1, 80)}号" if label else ""
            rows.append([head.id_number, head.name, _day(rng, month), grade, address, label])

        unsafe = [h for h in w.households if not h.housing_secure]
        home = [h for h in w.households if h.village == DEMO_VILLAGE]
        bad = (
            w.pick(home, 1, exclude=taken)
            + w.pick(unsafe, self.n(8, 1), exclude=taken)
            + w.pick(w.households, self.n(4, 1), exclude=taken)
        )
        for household in bad:
            row(household.head, _weighted(rng, (("C级", 70), ("D级", 30))), household.village)
        # Routine appraisals of the campaign, almost all safe.
        for household in w.pick(w.households, self.n(250, 20), exclude=taken):
            row(household.head, _weighted(rng, (("A级", 55), ("B级", 45))), household.village)
        row(
            w.stranger(age_range=(55, 80)),
            "D级",
            rng.choice(w.village_codes) if w.village_codes else "",
        )
        headers = (
            "户主身份证号码",
            "户主姓名",
            "鉴定日期",
            "鉴定等级",
            "房屋地址",
            "所在村（社区）",
        )
        return [
            _File(
                "housing",
                month,
                f"住建农房安全鉴定-{self.tag(month)}.xlsx",
                headers,
                sorted(rows, key=lambda r: (r[2], r[0])),
                "xlsx",
            )
        ]

    # ---- 人社 --------------------------------------------------------------------------------

    def employment(self) -> list[_File]:
        w, rng = self.w, self.rng
        workers = [p for p in w.people if p.capable and 18 <= w.age(p) <= 58]
        only = [p for p in workers if p.household is not None and p.household.labour_count == 1]
        shared = [p for p in workers if p.household is not None and p.household.labour_count >= 2]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def row(person: _Person, month: str, change: str) -> None:
            employer = rng.choice(_EMPLOYERS) if change == "就业登记" else ""
            rows[month].append(
                [
                    person.id_number,
                    person.name,
                    _day(rng, month),
                    change,
                    employer,
                    w.label(person.village),
                ]
            )

        for month in (self.previous, self.current):
            for person in w.pick(workers, self.n(80, 8), exclude=taken):
                row(person, month, "就业登记")
            for person in w.pick(shared, self.n(30, 2), exclude=taken):
                row(person, month, "失业登记")
            for _i in range(self.n(20, 1)):
                row(w.stranger(age_range=(20, 55)), month, rng.choice(["就业登记", "失业登记"]))
            for person in w.pick(only, self.n(6 if month == self.current else 3, 1), exclude=taken):
                row(person, month, "失业登记")
        headers = ("身份证号码", "姓名", "登记日期", "登记类型", "用工单位", "所在村（社区）")
        return [
            _File(
                "employment",
                m,
                f"人社就业失业登记-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
                "utf-8-sig",
            )
            for m in (self.previous, self.current)
        ]

    # ---- 应急 --------------------------------------------------------------------------------

    def disaster(self) -> list[_File]:
        w, rng = self.w, self.rng
        month = self.previous  # the September rains; the 12-month rule still counts them
        rural = [v for v in w.village_codes if "社区" not in w.villages[v].name]
        struck = set(w.pick(rural or w.village_codes, 3))
        local = [h for h in w.households if h.village in struck]
        rows: list[list[Any]] = []
        flood_day = _day(rng, month, 8, 20)
        taken: set[int] = set()

        def row(head: _Person, village: str, loss: float, damage: str) -> None:
            day = flood_day + dt.timedelta(days=rng.randint(0, 2))
            kind = _weighted(rng, (("洪涝", 70), ("地质灾害", 30)))
            rows.append(
                [head.id_number, head.name, day, kind, _money(loss), damage, w.label(village)]
            )

        for household in w.pick(local, self.n(8, 1), exclude=taken):
            row(
                household.head,
                household.village,
                rng.uniform(12500, 60000),
                rng.choice(["严重损坏", "倒塌"]),
            )
        for household in w.pick(local, self.n(110, 8), exclude=taken):
            row(
                household.head,
                household.village,
                rng.uniform(200, 6000),
                _weighted(rng, (("无", 60), ("一般损坏", 40))),
            )
        villages = sorted(struck)
        for _i in range(self.n(25, 2)):
            stranger = w.stranger(village=rng.choice(villages) if villages else None)
            row(
                stranger,
                stranger.village,
                rng.uniform(200, 5000),
                _weighted(rng, (("无", 60), ("一般损坏", 40))),
            )
        stranger = w.stranger(
            age_range=(45, 80), village=rng.choice(villages) if villages else None
        )
        row(stranger, stranger.village, rng.uniform(26000, 45000), "倒塌")
        total = sum(Decimal(r[4]) for r in rows)
        headers = (
            "户主身份证号码",
            "户主姓名",
            "受灾日期",
            "灾种",
            "直接经济损失（元）",
            "房屋受损情况",
            "所在村（社区）",
        )
        return [
            _File(
                "disaster",
                month,
                f"应急受灾户核查-{self.tag(month)}.csv",
                headers,
                sorted(rows, key=lambda r: (r[2], r[0])),
                "gb18030",
                total_row=["合计", "", "", "", f"{total:.2f}", "", ""],
            )
        ]

    # ---- 公安 --------------------------------------------------------------------------------

    def civil_registration(self) -> list[_File]:
        w, rng = self.w, self.rng
        elderly = [p for p in w.people if w.age(p) >= 72 and not p.capable]
        earners = [p for p in w.people if p.capable and 30 <= w.age(p) <= 60]
        adults = [p for p in w.people if 20 <= w.age(p) <= 50]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def row(person: _Person, month: str, change: str, day: dt.date | None = None) -> None:
            day = day or _day(rng, month)
            rows[month].append(
                [person.id_number, person.name, f"{day:%Y/%m/%d}", change, w.label(person.village)]
            )

        for month in (self.previous, self.current):
            for person in w.pick(elderly, self.n(25, 3), exclude=taken):
                row(person, month, "死亡注销")
            for _i in range(self.n(20, 1)):
                born = _day(rng, month)
                row(w.stranger(born=born), month, "出生登记", born)
            for person in w.pick(adults, self.n(8, 1), exclude=taken):
                row(person, month, "迁出")
            for _i in range(self.n(8, 1)):
                row(w.stranger(age_range=(20, 50)), month, "迁入")
        for person in w.pick(earners, self.n(3, 1), exclude=taken):
            row(person, self.current, "死亡")
        headers = ("身份证号码", "姓名", "变动日期", "变动类型", "所在村（社区）")
        return [
            _File(
                "civil-registration",
                m,
                f"公安户籍变动-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
                "utf-8-sig",
            )
            for m in (self.previous, self.current)
        ]

    # ---- 卫健 --------------------------------------------------------------------------------

    def illness(self) -> list[_File]:
        w, rng = self.w, self.rng
        older = [p for p in w.people if w.age(p) >= 40]
        taken: set[int] = set()
        rows: dict[str, list[list[Any]]] = {self.previous: [], self.current: []}

        def row(person: _Person, month: str) -> None:
            rows[month].append(
                [
                    person.id_number,
                    person.name,
                    _day(rng, month),
                    rng.choice(_MAJOR_DISEASES),
                    rng.choice(_HOSPITALS),
                    w.label(person.village),
                ]
            )

        for month in (self.previous, self.current):
            for person in w.pick(older, self.n(10, 1), exclude=taken):
                row(person, month)
        row(w.stranger(age_range=(40, 75)), self.current)
        row(w.stranger(age_range=(40, 75), village=""), self.current)
        headers = ("身份证号码", "姓名", "确诊日期", "病种", "确诊医院", "所在村（社区）")
        return [
            _File(
                "illness",
                m,
                f"卫健大病确诊-{self.tag(m)}.csv",
                headers,
                sorted(rows[m], key=lambda r: (r[2], r[0])),
            )
            for m in (self.previous, self.current)
        ]

    # ---- 水利 --------------------------------------------------------------------------------

    def water(self) -> list[_File]:
        w, rng = self.w, self.rng
        watched: dict[str, int] = defaultdict(int)
        for household in w.households:
            watched[household.village] += household.watched
        rural = [v for v in w.village_codes if "社区" not in w.villages[v].name and watched[v]]
        # Two long outages, in villages with fewer households than most (bounded alert count).
        ranked = sorted(rural, key=lambda v: (watched[v], v))
        long_outage = w.pick(ranked[: max(2, len(ranked) // 10)], 2)
        others = [v for v in w.village_codes if v not in long_outage]
        rows: list[list[Any]] = []

        def row(village: str, month: str, days: int, cause: str) -> None:
            # Some township offices write the code, others the name.
            text = village if rng.random() < 0.5 else w.label(village)
            rows.append([text, _day(rng, month), str(days), str(rng.randint(15, 260)), cause])

        for village in w.pick(others, self.n(24, 3)):
            row(
                village,
                rng.choice([self.previous, self.current]),
                rng.randint(1, 3),
                rng.choice(_WATER_CAUSES),
            )
        if long_outage:
            row(long_outage[0], self.previous, 5, "持续干旱，水源水量不足")
            row(long_outage[0], self.current, 4, "水源水量不足")
        if len(long_outage) > 1:
            row(long_outage[1], self.current, 9, "山洪冲毁取水口")
        headers = ("村（社区）", "停水日期", "停水天数", "影响户数", "停水原因")
        return [
            _File(
                "water",
                self.current,
                f"水利供水中断-{self.tag(self.current)}.csv",
                headers,
                sorted(rows, key=lambda r: (r[1], r[0])),
                "gb18030",
            )
        ]

    def all(self) -> list[_File]:
        files: list[_File] = []
        for build in (
            self.medical,
            self.social_assistance,
            self.disability,
            self.education,
            self.housing,
            self.employment,
            self.disaster,
            self.civil_registration,
            self.illness,
            self.water,
        ):
            files.extend(build())
        return files


# --- the service ------------------------------------------------------------------------------


@dataclass
class DemoFeedFile:
    source: str
    source_name: str
    period: str
    file_name: str
    #: "staged" (imported now), "already" (the same file was staged before), "failed".
    outcome: str
    batch_id: int | None = None
    rows_accepted: int = 0
    rows_rejected: int = 0
    message: str = ""


@dataclass
class DemoFeedsResult:
    period: str
    files: list[DemoFeedFile] = field(default_factory=list)
    run: ScreeningRun | None = None

    @property
    def staged(self) -> int:
        return sum(f.outcome == "staged" for f in self.files)

    @property
    def already(self) -> int:
        return sum(f.outcome == "already" for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files if f.outcome == "staged")

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files if f.outcome == "staged")


def demo_feeds_files(
    *, seed: int = DEMO_SEED, period: str = DEMO_FEED_PERIOD, directory: Path
) -> list[tuple[str, str, Path]]:
    """Write the demo's department files into ``directory``: (source slug, period, path)."""
    rng = random.Random(f"shouwang-demo-feeds:{seed}:{period}")
    year, month = (int(p) for p in period.split("-"))
    world = _World(rng, dt.date(year, month, 1))
    if not world.households:
        raise ApplicationError(_("还没有农户档案，无法生成部门数据；请先生成演示农户"))
    feeds = _Feeds(world, period, len(world.households) / DEMO_HOUSEHOLDS)
    return [(f.source, f.period, _write(f, directory)) for f in feeds.all()]


def demo_feeds_build(
    *,
    actor: User | None = None,
    seed: int = DEMO_SEED,
    period: str = DEMO_FEED_PERIOD,
    screen: bool = True,
    progress: Progress | None = None,
) -> DemoFeedsResult:
    """Write the demo's department files, stage them through the importer, and screen.

    A file staged before (same source and SHA-256) is skipped, so a rerun with the same
    registry stages nothing and raises no alert twice; so is a file whose month already has
    a demo file of that name (written from an earlier state of the registry). The screening runs when something new
    was staged or ``period`` has no successful run yet.
    """
    result = DemoFeedsResult(period=period)
    sources = {s.slug: s for s in FeedSource.objects.all()}
    with tempfile.TemporaryDirectory(prefix="shouwang-demo-feeds-") as work:
        files = demo_feeds_files(seed=seed, period=period, directory=Path(work))
        total = len(files) + (1 if screen else 0)
        for done, (slug, month, path) in enumerate(files):
            if progress is not None:
                progress(done, total)
            source = sources.get(slug)
            if source is None or not source.active:
                continue  # a district may have removed or paused a shipped source
            entry = DemoFeedFile(slug, source.name, month, path.name, "staged")
            result.files.append(entry)
            # The same file, or this month's demo file of an earlier build (the registry has
            # changed since): staging it again would count the month's rows twice.
            previous = (
                FeedBatch.objects.filter(source=source, status=BatchStatus.STAGED)
                .filter(Q(file_sha256=file_sha256(path)) | Q(file_name=path.name, period=month))
                .order_by("id")
                .first()
            )
            if previous is not None:
                entry.outcome, entry.batch_id = "already", previous.pk
                entry.rows_accepted, entry.rows_rejected = (
                    previous.rows_accepted,
                    previous.rows_rejected,
                )
                continue
            batch = feed_batch_import(actor=actor, source=source, path=path, period=month)
            entry.batch_id = batch.pk
            entry.rows_accepted, entry.rows_rejected = batch.rows_accepted, batch.rows_rejected
            entry.message = batch.message
            if batch.status != BatchStatus.STAGED:
                entry.outcome = "failed"
    if screen:
        if progress is not None:
            progress(total - 1, total)
        screened = ScreeningRun.objects.filter(period=period, status=RunStatus.SUCCEEDED).exists()
        if result.staged or not screened:
            result.run = screening_run(actor=actor, period=period, trigger=RunTrigger.COMMAND)
        if progress is not None:
            progress(total, total)
    return result
