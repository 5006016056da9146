"""The rules Shouwang ships, from the thresholds counties use in practice (domain.md §5).

Numbers that are policy (income lines, income shares) refer to policy parameters; numbers that
are local practice are written in the rule, where administrators can change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALL = ["monitored", "risk_eliminated", "poverty_exited", "ordinary", "unregistered"]
REGISTERED = ["monitored", "risk_eliminated", "poverty_exited", "ordinary"]


@dataclass(frozen=True)
class DefaultRule:
    slug: str
    name: str
    description: str
    spec: dict[str, Any]


def _share_of_income(factor: str) -> dict[str, Any]:
    return {"parameter": "rural_disposable_income", "factor": factor, "year_offset": -1}


DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule(
        "medical-out-of-pocket-12m",
        "近12个月医疗自付费用较高",
        "近 12 个月全家医疗个人自付合计：在册农户超过上年农村居民人均可支配收入的 50%，"
        "未在册人员超过 100%（河北阳原做法）。",
        {
            "feed": "medical",
            "conditions": [],
            "aggregate": {"function": "sum", "field": "out_of_pocket"},
            "window_months": 12,
            "per": "household",
            "comparison": "ge",
            "threshold": _share_of_income("0.5"),
            "threshold_unregistered": _share_of_income("1"),
            "population": ALL,
            "risk_type": "illness",
            "severity": "high",
        },
    ),
    DefaultRule(
        "inpatient-out-of-pocket-month",
        "单月住院自付较高",
        "本月单次住院个人自付：在册人员 ≥5000 元，其他人员 ≥20000 元（县级医保推送口径）。",
        {
            "feed": "medical",
            "conditions": [{"field": "visit_type", "op": "eq", "value": "inpatient"}],
            "aggregate": {"function": "max", "field": "out_of_pocket"},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "5000"},
            "threshold_unregistered": {"value": "20000"},
            "population": ALL,
            "risk_type": "illness",
            "severity": "medium",
        },
    ),
    DefaultRule(
        "severe-disability-new",
        "新办一、二级残疾人证",
        "本月新办或换发一级、二级（重度）残疾人证。",
        {
            "feed": "disability",
            "conditions": [{"field": "disability_grade", "op": "in", "value": ["1", "2"]}],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "disability",
            "severity": "medium",
        },
    ),
    DefaultRule(
        "compulsory-school-dropout",
        "义务教育阶段辍学",
        "近 3 个月教委报告辍学、失学的 6 至 16 周岁学生。",
        {
            "feed": "education",
            "conditions": [
                {"field": "status", "op": "eq", "value": "dropped_out"},
                {"field": "person.age", "op": "ge", "value": "6"},
                {"field": "person.age", "op": "le", "value": "16"},
            ],
            "aggregate": {"function": "count", "field": None},
            "window_months": 3,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "schooling",
            "severity": "high",
        },
    ),
    DefaultRule(
        "housing-unsafe",
        "住房鉴定为C级或D级",
        "近 12 个月住建委鉴定为 C 级（局部危房）或 D 级（整栋危房）。",
        {
            "feed": "housing",
            "conditions": [{"field": "grade", "op": "in", "value": ["C", "D"]}],
            "aggregate": {"function": "count", "field": None},
            "window_months": 12,
            "per": "household",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "housing",
            "severity": "high",
        },
    ),
    DefaultRule(
        "only-earner-unemployed",
        "唯一劳动力失业",
        "本月失业登记的人员是家中唯一有劳动能力的成员。",
        {
            "feed": "employment",
            "conditions": [
                {"field": "change_type", "op": "eq", "value": "unemployed"},
                {"field": "person.labour_capable", "op": "eq", "value": True},
                {"field": "household.labour_count", "op": "le", "value": "1"},
            ],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": REGISTERED,
            "risk_type": "unstable_employment",
            "severity": "high",
        },
    ),
    DefaultRule(
        "disaster-loss",
        "自然灾害损失较大",
        "近 12 个月受灾直接经济损失：在册农户超过上年农村居民人均可支配收入的 50%，"
        "其他人员超过 100%。",
        {
            "feed": "disaster",
            "conditions": [],
            "aggregate": {"function": "sum", "field": "loss_amount"},
            "window_months": 12,
            "per": "household",
            "comparison": "ge",
            "threshold": _share_of_income("0.5"),
            "threshold_unregistered": _share_of_income("1"),
            "population": ALL,
            "risk_type": "natural_disaster",
            "severity": "high",
        },
    ),
    DefaultRule(
        "earner-death",
        "劳动力死亡",
        "本月公安户籍死亡注销的人员是家中有劳动能力的成员。",
        {
            "feed": "civil-registration",
            "conditions": [
                {"field": "change_type", "op": "eq", "value": "death"},
                {"field": "person.labour_capable", "op": "eq", "value": True},
            ],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": REGISTERED,
            "risk_type": "lack_of_labour",
            "severity": "high",
        },
    ),
    DefaultRule(
        "income-below-line",
        "人均纯收入低于监测范围",
        "档案中的家庭人均纯收入低于当年防止返贫监测范围。",
        {
            "feed": None,
            "conditions": [],
            "aggregate": {"function": "latest", "field": "household.per_capita_net_income"},
            "window_months": 12,
            "per": "household",
            "comparison": "lt",
            "threshold": {"parameter": "monitoring_line", "factor": "1", "year_offset": 0},
            "population": ["risk_eliminated", "poverty_exited", "ordinary"],
            "risk_type": "other",
            "severity": "high",
        },
    ),
    DefaultRule(
        "water-outage",
        "村内供水中断",
        "近 3 个月村集中供水累计停水 7 天及以上，村内在册脱贫户和监测户均提示核查。",
        {
            "feed": "water",
            "conditions": [],
            "aggregate": {"function": "sum", "field": "outage_days"},
            "window_months": 3,
            "per": "village",
            "comparison": "ge",
            "threshold": {"value": "7"},
            "population": ["monitored", "risk_eliminated", "poverty_exited"],
            "risk_type": "drinking_water",
            "severity": "medium",
        },
    ),
    DefaultRule(
        "social-assistance-granted",
        "新纳入低保或特困",
        "本月民政新纳入低保或特困供养：困难已被民政认定，需核查是否纳入监测。",
        {
            "feed": "social-assistance",
            "conditions": [
                {"field": "assistance_type", "op": "in", "value": ["dibao", "tekun"]},
                {"field": "change_type", "op": "eq", "value": "granted"},
            ],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "other",
            "severity": "medium",
        },
    ),
    DefaultRule(
        "social-assistance-revoked",
        "低保或特困被取消",
        "本月民政取消低保或特困供养的在册人员：兜底保障退出后收入可能不稳。",
        {
            "feed": "social-assistance",
            "conditions": [
                {"field": "assistance_type", "op": "in", "value": ["dibao", "tekun"]},
                {"field": "change_type", "op": "eq", "value": "revoked"},
            ],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ["monitored", "risk_eliminated", "poverty_exited"],
            "risk_type": "other",
            "severity": "low",
        },
    ),
    DefaultRule(
        "major-illness-new",
        "新确诊重大疾病",
        "本月卫健委推送的新确诊大病患者。",
        {
            "feed": "illness",
            "conditions": [],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "illness",
            "severity": "high",
        },
    ),
)
