"""The shipped measure catalogue and recommendation rules; seeded by a data migration.

Groups are the national system's measure fields (domain.md §6); the measures under them are
the common ones named in the plan and in county practice. Each group's ``covers`` lists the
risk types it answers, from the national data-quality matching checks (因病 → 健康帮扶 or
社会帮扶, 因学 → 义务教育保障 / 教育帮扶 / 社会帮扶, 因残 → 综合保障 / 社会帮扶, 因安全住房 →
住房安全保障 / 搬迁, 因安全饮水 → 饮水安全保障); the rest follow the same reading (因务工就业
不稳 → 就业帮扶 / 公益岗位帮扶, 因产业项目失败 → 产业帮扶 / 金融帮扶, …).

Functions take the model classes so the migration can pass its historical models. Rows that
exist are left alone: once shipped, the catalogue belongs to the district.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shouwang.core.choices import Department as D


@dataclass(frozen=True)
class GroupDefault:
    code: str
    name: str
    covers: tuple[str, ...] = ()
    #: (name, department, development, backstop, unit)
    measures: tuple[tuple[str, str, bool, bool, str], ...] = ()
    description: str = ""


ILLNESS, DISABILITY, SCHOOLING = "illness", "disability", "schooling"
HOUSING, WATER = "housing", "drinking_water"
DISASTER, ACCIDENT = "natural_disaster", "accident"
INDUSTRY_FAILURE, UNSTABLE_JOB = "industry_failure", "unstable_employment"
NO_LABOUR, OTHER = "lack_of_labour", "other"

GROUPS: tuple[GroupDefault, ...] = (
    GroupDefault(
        "industry",
        "产业帮扶",
        (INDUSTRY_FAILURE, DISASTER, OTHER),
        (
            ("产业发展奖补", D.AGRICULTURE, True, False, "元"),
            ("农业技术指导", D.AGRICULTURE, True, False, "次"),
            ("产业保险", D.AGRICULTURE, True, False, "元"),
            ("利益联结（入股分红）", D.AGRICULTURE, True, False, "元"),
        ),
    ),
    GroupDefault(
        "employment",
        "就业帮扶",
        (UNSTABLE_JOB, ACCIDENT, OTHER),
        (
            ("外出务工补贴", D.HUMAN_RESOURCES, True, False, "元"),
            ("技能培训", D.HUMAN_RESOURCES, True, False, "人次"),
            ("劳务输出（转移就业）", D.HUMAN_RESOURCES, True, False, "人"),
            ("帮扶车间就业", D.HUMAN_RESOURCES, True, False, "人"),
            ("创业扶持", D.HUMAN_RESOURCES, True, False, "元"),
        ),
    ),
    GroupDefault(
        "finance",
        "金融帮扶",
        (INDUSTRY_FAILURE, OTHER),
        (
            ("小额信贷", D.RURAL_REVITALIZATION, True, False, "元"),
            ("创业担保贷款", D.FINANCE, True, False, "元"),
        ),
    ),
    GroupDefault(
        "public_welfare_job",
        "公益岗位帮扶",
        (UNSTABLE_JOB, NO_LABOUR, ACCIDENT),
        (("公益性岗位", D.HUMAN_RESOURCES, True, False, "月"),),
    ),
    GroupDefault(
        "health",
        "健康帮扶",
        (ILLNESS, ACCIDENT),
        (
            ("医疗救助", D.MEDICAL_INSURANCE, False, False, "元"),
            ("参保资助", D.MEDICAL_INSURANCE, False, False, "元"),
            ("家庭医生签约服务", D.HEALTH, False, False, "次"),
            ("大病专项救治", D.HEALTH, False, False, "人次"),
            ("防贫保险", D.RURAL_REVITALIZATION, False, False, "元"),
        ),
    ),
    GroupDefault(
        "education",
        "教育帮扶",
        (SCHOOLING,),
        (
            ("雨露计划", D.RURAL_REVITALIZATION, False, False, "元"),
            ("学生资助", D.EDUCATION, False, False, "元"),
            ("生源地信用助学贷款", D.EDUCATION, False, False, "元"),
        ),
    ),
    GroupDefault(
        "compulsory_education",
        "义务教育保障",
        (SCHOOLING,),
        (
            ("控辍保学劝返", D.EDUCATION, False, False, "人"),
            ("义务教育阶段生活补助", D.EDUCATION, False, False, "元"),
            ("送教上门", D.EDUCATION, False, False, "次"),
        ),
    ),
    GroupDefault(
        "housing",
        "住房安全保障",
        (HOUSING, DISASTER),
        (
            ("农村危房改造", D.HOUSING, False, False, "元"),
            ("灾后住房重建", D.HOUSING, False, False, "元"),
        ),
    ),
    GroupDefault(
        "drinking_water",
        "饮水安全保障",
        (WATER,),
        (("农村供水工程改造", D.WATER, False, False, "处"),),
    ),
    GroupDefault(
        "comprehensive",
        "综合保障",
        (DISABILITY, NO_LABOUR, ILLNESS, DISASTER, ACCIDENT),
        (
            ("低保", D.CIVIL_AFFAIRS, False, True, "元"),
            ("特困供养", D.CIVIL_AFFAIRS, False, True, "元"),
            ("临时救助", D.CIVIL_AFFAIRS, False, False, "元"),
            ("残疾人两项补贴", D.DISABLED_FEDERATION, False, False, "元"),
            ("残疾人康复服务", D.DISABLED_FEDERATION, False, False, "次"),
            ("受灾人员救助", D.EMERGENCY, False, False, "元"),
        ),
    ),
    GroupDefault(
        "social",
        "社会帮扶",
        (ILLNESS, SCHOOLING, DISABILITY, DISASTER, ACCIDENT, OTHER),
        (
            ("万企兴万村结对帮扶", D.INDUSTRY_COMMERCE, False, False, "元"),
            ("鲁渝协作就业岗位", D.COOPERATION, True, False, "人"),
            ("消费帮扶（农产品采购）", D.RURAL_REVITALIZATION, True, False, "元"),
            ("社会捐赠", D.RURAL_REVITALIZATION, False, False, "元"),
        ),
    ),
    GroupDefault(
        "relocation",
        "搬迁",
        (HOUSING, DISASTER),
        (("避险搬迁", D.DEVELOPMENT_REFORM, False, False, "户"),),
    ),
    GroupDefault(
        "infrastructure",
        "基础设施建设",
        (WATER,),
        (("通组道路硬化", D.TRANSPORT, False, False, "公里"),),
    ),
    GroupDefault(
        "living_conditions",
        "生产生活条件改善",
        (HOUSING, WATER),
        (("人居环境改善", D.AGRICULTURE, False, False, "元"),),
    ),
    GroupDefault(
        "motivation",
        "扶志扶智",
        (OTHER,),
        (("扶志教育与技能指导", D.RURAL_REVITALIZATION, False, False, "次"),),
        "针对内生动力不足：思想引导、典型示范、技能指导",
    ),
)


@dataclass(frozen=True)
class RuleDefault:
    priority: int
    name: str
    measure: tuple[str, str]  # (group code, measure name)
    description: str
    risk_types: tuple[str, ...] = ()
    household_labour: str = "any"
    member: dict = field(default_factory=dict)
    per_member: bool = False
    only_without_development: bool = False


SICK = ("serious_illness", "chronic")
STUDYING_VOCATIONAL = ("secondary_vocational", "higher_vocational")
STUDYING_COMPULSORY = ("primary", "junior")
CAPABLE = ("ordinary", "skilled")

RULES: tuple[RuleDefault, ...] = (
    RuleDefault(
        10,
        "整户无劳动能力纳入低保兜底",
        ("comprehensive", "低保"),
        "整户无劳动能力的监测户落实兜底保障",
        household_labour="none",
    ),
    RuleDefault(
        20,
        "因病：患病成员医疗救助",
        ("health", "医疗救助"),
        "因病风险且有成员患大病或长期慢性病，落实医疗救助",
        risk_types=(ILLNESS,),
        member={"member_health_statuses": SICK},
    ),
    RuleDefault(
        21,
        "因病：家庭医生签约服务",
        ("health", "家庭医生签约服务"),
        "因病风险的患病成员签约家庭医生，慢病规范管理",
        risk_types=(ILLNESS,),
        member={"member_health_statuses": ("chronic",)},
    ),
    RuleDefault(
        22,
        "因意外事故：防贫保险",
        ("health", "防贫保险"),
        "因意外事故导致大额支出，启动防贫保险理赔",
        risk_types=(ACCIDENT,),
    ),
    RuleDefault(
        30,
        "因学：职业教育学生雨露计划",
        ("education", "雨露计划"),
        "因学风险，中职、高职在校生享受雨露计划补助",
        risk_types=(SCHOOLING,),
        member={"member_school_statuses": STUDYING_VOCATIONAL},
        per_member=True,
    ),
    RuleDefault(
        31,
        "因学：高中及本科学生资助",
        ("education", "学生资助"),
        "因学风险，普通高中、本科在校生落实学生资助",
        risk_types=(SCHOOLING,),
        member={"member_school_statuses": ("senior", "undergraduate")},
        per_member=True,
    ),
    RuleDefault(
        32,
        "因学：义务教育阶段生活补助",
        ("compulsory_education", "义务教育阶段生活补助"),
        "因学风险，义务教育阶段在校生落实生活补助",
        risk_types=(SCHOOLING,),
        member={"member_school_statuses": STUDYING_COMPULSORY},
        per_member=True,
    ),
    RuleDefault(
        33,
        "失学辍学：控辍保学劝返",
        ("compulsory_education", "控辍保学劝返"),
        "有失学辍学的义务教育适龄成员，落实劝返复学",
        member={"member_school_statuses": ("dropped_out",), "member_age_max": 16},
        per_member=True,
    ),
    RuleDefault(
        40,
        "因残：残疾人两项补贴",
        ("comprehensive", "残疾人两项补贴"),
        "因残风险，残疾成员落实困难残疾人生活补贴和重度残疾人护理补贴",
        risk_types=(DISABILITY,),
        member={"member_health_statuses": ("disabled",)},
        per_member=True,
    ),
    RuleDefault(
        50,
        "因安全住房：危房改造",
        ("housing", "农村危房改造"),
        "因安全住房风险，落实农村危房改造",
        risk_types=(HOUSING,),
    ),
    RuleDefault(
        51,
        "因自然灾害：受灾人员救助",
        ("comprehensive", "受灾人员救助"),
        "因自然灾害风险，落实受灾人员救助",
        risk_types=(DISASTER,),
    ),
    RuleDefault(
        60,
        "因安全饮水：供水工程改造",
        ("drinking_water", "农村供水工程改造"),
        "因安全饮水风险，落实农村供水工程改造",
        risk_types=(WATER,),
    ),
    RuleDefault(
        70,
        "因务工就业不稳：外出务工补贴",
        ("employment", "外出务工补贴"),
        "因务工就业不稳且有劳动力，落实稳岗就业和外出务工补贴",
        risk_types=(UNSTABLE_JOB,),
        household_labour="capable",
    ),
    RuleDefault(
        71,
        "因产业项目失败：小额信贷",
        ("finance", "小额信贷"),
        "因产业项目失败且有劳动力，落实脱贫人口小额信贷恢复生产",
        risk_types=(INDUSTRY_FAILURE,),
        household_labour="capable",
    ),
    RuleDefault(
        72,
        "因产业项目失败：产业发展奖补",
        ("industry", "产业发展奖补"),
        "因产业项目失败，落实产业发展奖补",
        risk_types=(INDUSTRY_FAILURE,),
        household_labour="capable",
    ),
    RuleDefault(
        80,
        "缺劳动力：弱劳动力公益性岗位",
        ("public_welfare_job", "公益性岗位"),
        "缺劳动力风险，有弱劳动力或半劳动力成员的，安排公益性岗位",
        risk_types=(NO_LABOUR,),
        member={"member_labour_skills": ("weak",), "member_age_max": 65},
    ),
    RuleDefault(
        90,
        "有劳动能力：至少一项开发式帮扶",
        ("employment", "技能培训"),
        "有普通或技能劳动力的家庭须有开发式帮扶，不能只靠兜底保障",
        household_labour="capable",
        member={"member_labour_skills": CAPABLE, "member_age_min": 16, "member_age_max": 60},
        only_without_development=True,
    ),
    RuleDefault(
        91,
        "有劳动能力：超龄劳动力产业帮扶",
        ("industry", "农业技术指导"),
        "有劳动力但均已超过60岁的家庭，以产业帮扶作为开发式措施",
        household_labour="capable",
        only_without_development=True,
    ),
)


def seed_catalogue(MeasureGroup, Measure) -> int:  # noqa: N803 (model classes)
    """Create missing groups and measures; return how many measures were created."""
    created = 0
    for order, group_default in enumerate(GROUPS, start=1):
        group, _new = MeasureGroup.objects.get_or_create(
            code=group_default.code,
            defaults={
                "name": group_default.name,
                "sort_order": order * 10,
                "covers_risk_types": list(group_default.covers),
                "description": group_default.description,
            },
        )
        for name, department, development, backstop, unit in group_default.measures:
            _measure, new = Measure.objects.get_or_create(
                group=group,
                name=name,
                defaults={
                    "department": department,
                    "development": development,
                    "backstop": backstop,
                    "unit": unit,
                },
            )
            created += new
    return created


def seed_rules(MeasureGroup, Measure, RecommendationRule) -> int:  # noqa: N803
    existing = set(RecommendationRule.objects.values_list("name", flat=True))
    created = 0
    for rule in RULES:
        if rule.name in existing:
            continue
        measure = Measure.objects.filter(group__code=rule.measure[0], name=rule.measure[1]).first()
        if measure is None:
            continue  # the district removed the measure; its rule is not brought back
        member = {key: list(v) if isinstance(v, tuple) else v for key, v in rule.member.items()}
        RecommendationRule.objects.create(
            name=rule.name,
            description=rule.description,
            priority=rule.priority,
            risk_types=list(rule.risk_types),
            household_labour=rule.household_labour,
            per_member=rule.per_member,
            only_without_development=rule.only_without_development,
            measure=measure,
            **member,
        )
        created += 1
    return created
