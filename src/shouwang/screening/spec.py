"""Rule specs: the JSON an administrator edits, parsed into frozen dataclasses.

Everything a rule may say is checked here against the feed sources' column mappings, so the
compiler only ever sees known fields, known operators and numbers. Messages are Chinese and
name the part of the rule that is wrong.

A spec looks like::

    {
      "feed": "medical",                # a feed source slug, or null for registry-only rules
      "conditions": [{"field": "visit_type", "op": "in", "value": ["inpatient"]}],
      "aggregate": {"function": "sum", "field": "out_of_pocket"},
      "window_months": 12,
      "per": "household",               # person | household | village
      "comparison": "ge",
      "threshold": {"parameter": "rural_disposable_income", "factor": "0.5", "year_offset": -1},
      "threshold_unregistered": {"parameter": "rural_disposable_income", "factor": "1"},
      "population": ["monitored", "risk_eliminated", "poverty_exited", "ordinary", "unregistered"],
      "risk_type": "illness",
      "severity": "high"
    }

Condition fields are a feed column, or ``person.age`` (years at the row's date),
``person.labour_capable``, ``household.labour_count``, ``household.member_count``.
Registry-only rules aggregate ``household.per_capita_net_income``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from shouwang.registry.choices import RiskType
from shouwang.screening.choices import (
    AggregateFunction,
    ColumnType,
    Comparison,
    ConditionOp,
    Per,
    Population,
    Severity,
)
from shouwang.screening.sources import ColumnSpec

#: Attributes of the person and household the snapshot offers to conditions: name → type.
PERSON_ATTRIBUTES = {"person.age": "number", "person.labour_capable": "boolean"}
HOUSEHOLD_ATTRIBUTES = {"household.labour_count": "number", "household.member_count": "number"}
#: Values a registry-only rule can compare.
REGISTRY_MEASURES = {"household.per_capita_net_income": "number"}
MAX_WINDOW_MONTHS = 60
#: Numbers in a spec: at most this many digits before the point and after it.
MAX_INTEGER_DIGITS = 14
MAX_DECIMAL_PLACES = 6
MAX_CONDITIONS = 10
MAX_CHOICES = 50


class SpecInvalid(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Threshold:
    """A number, or a policy parameter times a factor (e.g. 50 % of last year's income)."""

    value: Decimal | None = None
    parameter: str | None = None
    factor: Decimal = Decimal(1)
    year_offset: int = 0

    def as_dict(self) -> dict[str, Any]:
        if self.parameter is None:
            return {"value": str(self.value)}
        return {
            "parameter": self.parameter,
            "factor": str(self.factor),
            "year_offset": self.year_offset,
        }


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # str | Decimal | bool | tuple of those

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, tuple):
            value = [str(v) if isinstance(v, Decimal) else v for v in value]
        elif isinstance(value, Decimal):
            value = str(value)
        return {"field": self.field, "op": self.op, "value": value}


@dataclass(frozen=True)
class RuleSpec:
    feed: str | None
    conditions: tuple[Condition, ...]
    function: str
    measure: str | None  # the aggregated field; None for count
    window_months: int
    per: str
    comparison: str
    threshold: Threshold
    threshold_unregistered: Threshold | None
    population: tuple[str, ...]
    risk_type: str
    severity: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "conditions": [c.as_dict() for c in self.conditions],
            "aggregate": {"function": self.function, "field": self.measure},
            "window_months": self.window_months,
            "per": self.per,
            "comparison": self.comparison,
            "threshold": self.threshold.as_dict(),
            "threshold_unregistered": (
                self.threshold_unregistered.as_dict() if self.threshold_unregistered else None
            ),
            "population": list(self.population),
            "risk_type": self.risk_type,
            "severity": self.severity,
        }

    @property
    def includes_unregistered(self) -> bool:
        return Population.UNREGISTERED in self.population


def _decimal(raw: Any) -> Decimal | None:
    """A number a rule can compare with: finite, at most ``MAX_INTEGER_DIGITS`` digits before
    the point (an alert stores its threshold in 16 digits, 2 after the point) and
    ``MAX_DECIMAL_PLACES`` after it. A larger one would reach the engine as a type it cannot
    compare with a money column."""
    if isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    if value.is_zero():
        return value
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if value.adjusted() >= MAX_INTEGER_DIGITS or places > MAX_DECIMAL_PLACES:
        return None
    return value


def _threshold(
    raw: Any, label: str, parameters: Mapping[str, str], errors: list[str]
) -> Threshold | None:
    if not isinstance(raw, dict):
        errors.append(_("%(label)s应为数值或政策参数") % {"label": label})
        return None
    if raw.get("parameter") in (None, ""):
        value = _decimal(raw.get("value"))
        if value is None:
            errors.append(
                _("%(label)s不是有效数值（整数至多 %(digits)d 位，小数至多 %(places)d 位）")
                % {"label": label, "digits": MAX_INTEGER_DIGITS, "places": MAX_DECIMAL_PLACES}
            )
            return None
        return Threshold(value=value)
    parameter = str(raw["parameter"])
    if parameter not in parameters:
        errors.append(
            _("%(label)s引用的政策参数“%(name)s”不存在") % {"label": label, "name": parameter}
        )
        return None
    factor = _decimal(raw.get("factor", 1))
    if factor is None or factor <= 0 or factor > 100:
        errors.append(_("%(label)s的倍数应为大于 0、不超过 100 的数") % {"label": label})
        return None
    offset = raw.get("year_offset", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or not -5 <= offset <= 0:
        errors.append(_("%(label)s的年份偏移应为 -5 到 0 的整数") % {"label": label})
        return None
    return Threshold(parameter=parameter, factor=factor, year_offset=offset)


def _condition_value(
    raw: Any, kind: str, column: ColumnSpec | None, op: str, field: str, errors: list[str]
):
    """Convert a condition's value to the field's type; None (with an error) if it cannot."""

    def one(item: Any):
        if kind == "boolean":
            if isinstance(item, bool):
                return item
            errors.append(_("条件“%(field)s”的值应为是/否") % {"field": field})
            return None
        if kind == "number":
            number = _decimal(item)
            if number is None:
                errors.append(
                    _(
                        "条件“%(field)s”的值“%(value)s”不是有效数值"
                        "（整数至多 %(digits)d 位，小数至多 %(places)d 位）"
                    )
                    % {
                        "field": field,
                        "value": item,
                        "digits": MAX_INTEGER_DIGITS,
                        "places": MAX_DECIMAL_PLACES,
                    }
                )
            return number
        text = str(item).strip() if item is not None else ""
        if not text:
            errors.append(_("条件“%(field)s”的值不能为空") % {"field": field})
            return None
        if column is not None and column.type == ColumnType.CHOICE:
            allowed = set(column.choices.values())
            if text not in allowed:
                label_map = column.choices
                if text in label_map:  # a label was typed: accept it as its value
                    return label_map[text]
                errors.append(
                    _("条件“%(field)s”的值“%(value)s”不在选项中（可选：%(allowed)s）")
                    % {"field": field, "value": text, "allowed": "、".join(sorted(allowed))}
                )
                return None
        return text

    if op in (ConditionOp.IN, ConditionOp.NOT_IN):
        if not isinstance(raw, list) or not raw or len(raw) > MAX_CHOICES:
            errors.append(
                _("条件“%(field)s”应给出 1 到 %(n)d 个取值") % {"field": field, "n": MAX_CHOICES}
            )
            return None
        values = tuple(one(item) for item in raw)
        return None if any(v is None for v in values) else values
    if op in (ConditionOp.GT, ConditionOp.GE, ConditionOp.LT, ConditionOp.LE) and kind not in (
        "number",
    ):
        errors.append(_("条件“%(field)s”不是数值，不能比较大小") % {"field": field})
        return None
    return one(raw)


def _field_kind(column: ColumnSpec) -> str:
    if column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
        return "number"
    if column.type == ColumnType.DATE:
        return "date"
    return "text"


def parse_rule_spec(
    raw: Any,
    *,
    sources: Mapping[str, list[ColumnSpec]],
    parameters: Mapping[str, str],
) -> RuleSpec:
    """Validate ``raw`` against the feed sources (slug → columns) and policy parameter keys."""
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise SpecInvalid([_("规则定义应为对象")])

    # JSON may put a list or an object anywhere: a value used as a key must be text first.
    feed = raw.get("feed") or None
    columns: dict[str, ColumnSpec] = {}
    if feed is not None and not isinstance(feed, str):
        errors.append(_("数据源应为数据源代码（文本），只看登记数据时为 null"))
        feed = ""  # checked on as an unknown source, so no registry-only message follows
    elif feed is not None:
        if feed not in sources:
            errors.append(_("数据源“%(feed)s”不存在") % {"feed": feed})
        else:
            columns = {c.field: c for c in sources[feed]}
    has_person_key = any(c.type == ColumnType.ID_NUMBER for c in columns.values())

    per = raw.get("per", Per.HOUSEHOLD)
    if per not in Per.values:
        errors.append(_("统计口径“%(per)s”无效") % {"per": per})
    elif feed is not None and columns:
        if per == Per.VILLAGE and not any(c.type == ColumnType.DIVISION for c in columns.values()):
            errors.append(_("按村统计需要数据源有村（社区）列"))
        if per in (Per.PERSON, Per.HOUSEHOLD) and not has_person_key:
            errors.append(_("该数据源没有身份证号码列，只能按村统计"))
    elif feed is None and per != Per.HOUSEHOLD:
        errors.append(_("不使用部门数据的规则只能按户统计"))

    aggregate = raw.get("aggregate") or {}
    function = aggregate.get("function") if isinstance(aggregate, dict) else None
    measure = aggregate.get("field") if isinstance(aggregate, dict) else None
    if function not in AggregateFunction.values:
        errors.append(_("统计方式“%(f)s”无效") % {"f": function})
    elif function == AggregateFunction.COUNT:
        measure = None
    elif measure is not None and not isinstance(measure, str):
        errors.append(_("统计字段应为字段名（文本）"))
    elif feed is None:
        if measure not in REGISTRY_MEASURES:
            errors.append(
                _("不使用部门数据的规则只能比较：%(fields)s")
                % {"fields": "、".join(REGISTRY_MEASURES)}
            )
    elif columns:
        column = columns.get(measure or "")
        if column is None:
            errors.append(_("统计字段“%(f)s”不在数据源中") % {"f": measure})
        elif column.type not in (ColumnType.DECIMAL, ColumnType.INTEGER):
            errors.append(_("统计字段“%(f)s”不是数值列") % {"f": measure})

    window = raw.get("window_months", 12)
    if (
        not isinstance(window, int)
        or isinstance(window, bool)
        or not 1 <= window <= MAX_WINDOW_MONTHS
    ):
        errors.append(_("时间窗口应为 1 到 %(n)d 个月") % {"n": MAX_WINDOW_MONTHS})
        window = 12

    conditions: list[Condition] = []
    raw_conditions = raw.get("conditions") or []
    if not isinstance(raw_conditions, list) or len(raw_conditions) > MAX_CONDITIONS:
        errors.append(_("筛选条件应为不超过 %(n)d 条的列表") % {"n": MAX_CONDITIONS})
        raw_conditions = []
    for item in raw_conditions:
        if not isinstance(item, dict):
            errors.append(_("每条筛选条件应为对象"))
            continue
        field = str(item.get("field", ""))
        op = item.get("op")
        if op not in ConditionOp.values:
            errors.append(_("条件“%(field)s”的运算“%(op)s”无效") % {"field": field, "op": op})
            continue
        column = columns.get(field)
        if column is not None:
            kind = _field_kind(column)
            if kind == "date":
                errors.append(_("日期列“%(field)s”由时间窗口控制，不能作为条件") % {"field": field})
                continue
            if column.type == ColumnType.ID_NUMBER:
                errors.append(_("身份证号码列不能作为条件"))
                continue
        elif field in PERSON_ATTRIBUTES or field in HOUSEHOLD_ATTRIBUTES:
            if feed is None:
                errors.append(_("不使用部门数据的规则不能设置人员条件"))
                continue
            if not has_person_key:
                errors.append(
                    _("按村上报的数据源不能使用人员或家庭条件（%(field)s）") % {"field": field}
                )
                continue
            kind = PERSON_ATTRIBUTES.get(field) or HOUSEHOLD_ATTRIBUTES[field]
        else:
            errors.append(_("条件字段“%(field)s”不存在") % {"field": field})
            continue
        value = _condition_value(item.get("value"), kind, column, op, field, errors)
        if value is None:
            continue
        if kind == "boolean" and op not in (ConditionOp.EQ, ConditionOp.NE):
            errors.append(_("是/否条件“%(field)s”只能用等于或不等于") % {"field": field})
            continue
        conditions.append(Condition(field=field, op=op, value=value))

    comparison = raw.get("comparison")
    if comparison not in Comparison.values:
        errors.append(_("比较方式“%(c)s”无效") % {"c": comparison})

    threshold = _threshold(raw.get("threshold"), _("阈值"), parameters, errors)
    threshold_unregistered = None
    if raw.get("threshold_unregistered") not in (None, {}):
        threshold_unregistered = _threshold(
            raw.get("threshold_unregistered"), _("未在册人员阈值"), parameters, errors
        )

    population = raw.get("population") or []
    if not isinstance(population, list) or not population:
        errors.append(_("请至少选择一类适用人群"))
        population = []
    bad = [p for p in population if p not in Population.values]
    if bad:
        errors.append(_("适用人群“%(p)s”无效") % {"p": "、".join(map(str, bad))})
    if Population.UNREGISTERED in population and (
        feed is None or per == Per.VILLAGE or not has_person_key and columns
    ):
        errors.append(_("只有按人或按户统计的部门数据才能发现未在册人员"))
    if Population.UNREGISTERED in population and any(
        c.field in HOUSEHOLD_ATTRIBUTES for c in conditions
    ):
        errors.append(_("使用家庭条件的规则不能适用于未在册人员（他们没有在册家庭）"))

    risk_type = raw.get("risk_type")
    if risk_type not in RiskType.values:
        errors.append(_("风险类型“%(r)s”无效") % {"r": risk_type})
    severity = raw.get("severity", Severity.MEDIUM)
    if severity not in Severity.values:
        errors.append(_("严重程度“%(s)s”无效") % {"s": severity})

    if errors:
        raise SpecInvalid(errors)
    return RuleSpec(
        feed=feed,
        conditions=tuple(conditions),
        function=function,
        measure=measure,
        window_months=window,
        per=per,
        comparison=comparison,
        threshold=threshold,
        threshold_unregistered=threshold_unregistered,
        population=tuple(dict.fromkeys(population)),
        risk_type=risk_type,
        severity=severity,
    )
