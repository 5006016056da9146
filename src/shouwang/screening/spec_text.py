"""Rule specs in readable Chinese, for the rule pages: one sentence, its parts, and the
difference between two versions.

Specs are read as stored (already validated when saved); unknown parts show as written, so
a rule whose source changed since still renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from shouwang.policy.parameters import PARAMETERS
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
from shouwang.screening.evidence import COMPARISON_SYMBOLS, format_number
from shouwang.screening.sources import ColumnSpec


def attribute_labels() -> dict[str, str]:
    """Labels of the person and household attributes a rule may name."""
    return {
        "person.age": _("年龄（周岁）"),
        "person.labour_capable": _("有劳动能力"),
        "household.labour_count": _("家庭劳动力人数"),
        "household.member_count": _("家庭人口数"),
        "household.per_capita_net_income": _("家庭人均纯收入"),
    }


@dataclass(frozen=True)
class SourceInfo:
    """What the texts need of a feed source."""

    name: str
    columns: tuple[ColumnSpec, ...]

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.field == name), None)


@dataclass(frozen=True)
class SpecPart:
    key: str
    label: str
    text: str


def _number(raw: Any) -> str:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return str(raw)
    return format_number(value, whole=value == value.to_integral_value())


def _percent(factor: Any) -> str:
    try:
        value = Decimal(str(factor)) * 100
    except (InvalidOperation, ValueError):
        return str(factor)
    return f"{value.normalize():f}%"


def _years_ago(offset: int) -> str:
    if offset == 0:
        return _("当年")
    if offset == -1:
        return _("上年")
    return _("%(n)d 年前") % {"n": -offset}


def threshold_text(threshold: dict[str, Any] | None) -> str:
    """``{"value": "5000"}`` → 5,000; a parameter → 上年农村居民人均可支配收入×50%."""
    if not threshold:
        return "—"
    parameter = threshold.get("parameter")
    if not parameter:
        return _number(threshold.get("value"))
    known = PARAMETERS.get(parameter)
    label = str(known.label) if known else parameter
    text = _years_ago(int(threshold.get("year_offset") or 0)) + label
    factor = threshold.get("factor", "1")
    try:
        is_one = Decimal(str(factor)) == 1
    except (InvalidOperation, ValueError):
        is_one = False
    return text if is_one else f"{text}×{_percent(factor)}"


def _unregistered_text(spec: dict[str, Any]) -> str:
    """The unregistered threshold as the difference from the registered one says it."""
    main, other = spec.get("threshold") or {}, spec.get("threshold_unregistered") or {}
    if (
        main.get("parameter")
        and main.get("parameter") == other.get("parameter")
        and int(main.get("year_offset") or 0) == int(other.get("year_offset") or 0)
    ):
        return "×" + _percent(other.get("factor", "1"))
    return threshold_text(other)


def _field_label(name: str | None, source: SourceInfo | None) -> str:
    if not name:
        return ""
    column = source.column(name) if source else None
    if column is not None:
        return column.header
    return attribute_labels().get(name, name)


def _value_label(column: ColumnSpec | None, value: Any) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if column is not None and column.type == ColumnType.CHOICE:
        labels = column.labels_by_value().get(str(value))
        if labels:
            return "/".join(labels)
    if column is not None and column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
        return _number(value)
    return str(value)


def condition_text(condition: dict[str, Any], source: SourceInfo | None) -> str:
    name = condition.get("field", "")
    column = source.column(name) if source else None
    op = condition.get("op")
    raw = condition.get("value")
    values = raw if isinstance(raw, list) else [raw]
    shown = "、".join(_value_label(column, v) for v in values)
    if op in (Comparison.GT, Comparison.GE, Comparison.LT, Comparison.LE):
        symbol = COMPARISON_SYMBOLS.get(op, op)
        return f"{_field_label(name, source)} {symbol} {shown}"
    if op == ConditionOp.IN and len(values) > 1:
        return _("%(field)s为%(values)s之一") % {
            "field": _field_label(name, source),
            "values": shown,
        }
    if op == ConditionOp.NOT_IN or op == ConditionOp.NE:
        return _("%(field)s不是%(values)s") % {"field": _field_label(name, source), "values": shown}
    return _("%(field)s为%(values)s") % {"field": _field_label(name, source), "values": shown}


def _measure_text(spec: dict[str, Any], source: SourceInfo | None) -> str:
    aggregate = spec.get("aggregate") or {}
    function = aggregate.get("function")
    per = str(dict(Per.choices).get(spec.get("per"), spec.get("per") or ""))
    if function == AggregateFunction.COUNT:
        return _("%(per)s统计记录条数") % {"per": per}
    function_label = str(dict(AggregateFunction.choices).get(function, function or ""))
    return _("%(field)s %(per)s%(function)s") % {
        "field": _field_label(aggregate.get("field"), source),
        "per": per,
        "function": function_label,
    }


def _choices_text(values: list[str], choices: Any) -> str:
    labels = dict(choices)
    return "、".join(str(labels.get(v, v)) for v in values) or "—"


def spec_parts(spec: dict[str, Any], source: SourceInfo | None) -> list[SpecPart]:
    """The rule's parts, each as a short Chinese phrase; keys stay stable between versions."""
    feed = spec.get("feed")
    window = spec.get("window_months")
    conditions = [condition_text(c, source) for c in spec.get("conditions") or []]
    parts = [
        SpecPart(
            "feed",
            _("数据来源"),
            (source.name if source else str(feed)) if feed else _("农户档案（不使用部门数据）"),
        ),
        SpecPart(
            "window",
            _("时间窗口"),
            _("近 %(n)s 个月") % {"n": window} if feed and window else "—",
        ),
        SpecPart(
            "conditions", _("筛选条件"), _("，且").join(conditions) if conditions else _("无")
        ),
        SpecPart("measure", _("统计"), _measure_text(spec, source)),
        SpecPart(
            "threshold",
            _("比较与阈值"),
            f"{dict(Comparison.choices).get(spec.get('comparison'), spec.get('comparison'))} "
            f"{threshold_text(spec.get('threshold'))}",
        ),
        SpecPart(
            "threshold_unregistered",
            _("未在册人员阈值"),
            threshold_text(spec.get("threshold_unregistered"))
            if spec.get("threshold_unregistered")
            else _("同在册人员"),
        ),
        SpecPart(
            "population",
            _("适用人群"),
            _choices_text(list(spec.get("population") or []), Population.choices),
        ),
        SpecPart(
            "risk_type", _("风险类型"), _choices_text([spec.get("risk_type")], RiskType.choices)
        ),
        SpecPart(
            "severity", _("严重程度"), _choices_text([spec.get("severity")], Severity.choices)
        ),
    ]
    return parts


def spec_sentence(spec: dict[str, Any], source: SourceInfo | None) -> str:
    """近12个月 医保局医疗费用结算数据 中 个人自付金额 按户合计 ≥ 上年…×50%（未在册人员 ×100%）"""
    feed = spec.get("feed")
    pieces: list[str] = []
    if feed:
        if spec.get("window_months"):
            pieces.append(_("近%(n)s个月") % {"n": spec["window_months"]})
        pieces.append(source.name if source else str(feed))
        pieces.append(_("中"))
        conditions = [condition_text(c, source) for c in spec.get("conditions") or []]
        if conditions:
            pieces.append(_("%(conditions)s 的记录，") % {"conditions": _("，且").join(conditions)})
    else:
        pieces.append(_("农户档案中"))
    text = " ".join(pieces)
    text = text.replace("， ", "，")
    text += " " if not text.endswith("，") else ""
    text += _measure_text(spec, source)
    text += " " + COMPARISON_SYMBOLS.get(spec.get("comparison"), str(spec.get("comparison")))
    text += " " + threshold_text(spec.get("threshold"))
    if spec.get("threshold_unregistered"):
        text += _("（未在册人员 %(threshold)s）") % {"threshold": _unregistered_text(spec)}
    return text


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def version_changes(before: dict[str, Any], after: dict[str, Any], source_of: Any) -> list[Change]:
    """What changed between two saved states ``{"name", "description", "active", "spec"}``.

    ``source_of(slug)`` gives the SourceInfo of a feed (or None).
    """
    changes: list[Change] = []
    for key, label in (("name", _("名称")), ("description", _("说明"))):
        if (before.get(key) or "") != (after.get(key) or ""):
            changes.append(Change(label, before.get(key) or "—", after.get(key) or "—"))
    if before.get("active") != after.get("active"):
        changes.append(
            Change(
                _("启用"),
                _("是") if before.get("active") else _("否"),
                _("是") if after.get("active") else _("否"),
            )
        )
    old_spec, new_spec = before.get("spec") or {}, after.get("spec") or {}
    old_parts = {p.key: p for p in spec_parts(old_spec, source_of(old_spec.get("feed")))}
    for part in spec_parts(new_spec, source_of(new_spec.get("feed"))):
        old = old_parts.get(part.key)
        if old is None or old.text != part.text:
            changes.append(Change(part.label, old.text if old else "—", part.text))
    return changes
