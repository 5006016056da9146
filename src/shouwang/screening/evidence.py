"""What an alert rests on, as its page shows it: the comparison made and the feed rows behind it.

An alert keeps ``(batch id, row number)`` pairs; the rows themselves stay in the batches'
staged Parquet files and are read back here, only those rows, only for an alert the caller
already fetched through ``selectors.alert_get`` (so only in the actor's area). Staged files
hold no ID numbers (the importer keeps the blind index instead), so none can be shown; their
free text (names, diagnoses) is sealed and opened here, in memory, for the rows shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.choices import DivisionLevel
from shouwang.core.models import Division
from shouwang.policy.parameters import PARAMETERS
from shouwang.screening.choices import (
    AggregateFunction,
    ColumnType,
    Comparison,
    ConditionOp,
    Per,
    Population,
)
from shouwang.screening.feeds.sealing import SealedValueUnreadable, read_staged
from shouwang.screening.models import Alert, FeedBatch
from shouwang.screening.sources import SYSTEM_FIELDS, ColumnSpec, parse_columns

logger = logging.getLogger(__name__)

COMPARISON_SYMBOLS = {
    Comparison.GT: ">",
    Comparison.GE: "≥",
    Comparison.LT: "<",
    Comparison.LE: "≤",
    Comparison.EQ: "=",
}

#: Person and household attributes a rule condition may name (spec.PERSON_ATTRIBUTES and friends).
_ATTRIBUTE_LABELS = {
    "person.age": gettext_lazy("年龄"),
    "person.labour_capable": gettext_lazy("有劳动能力"),
    "household.labour_count": gettext_lazy("家庭劳动力人数"),
    "household.member_count": gettext_lazy("家庭人口数"),
    "household.per_capita_net_income": gettext_lazy("家庭人均纯收入"),
}


def format_number(value: Decimal | int | float | None, *, whole: bool = False) -> str:
    """Grouped digits; two decimals unless the figure is a whole count."""
    if value is None:
        return "—"
    if whole or (isinstance(value, int) and not isinstance(value, bool)):
        return number_format(int(value), 0, force_grouping=True)
    return number_format(Decimal(value), 2, force_grouping=True)


# --- the comparison ----------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedValues:
    """The sentence parts of "value ≥ threshold" for one alert."""

    measure: str  # e.g. 近 12 个月按户合计“个人自付金额”
    window: str  # e.g. 2024-10-01 至 2025-09-30
    value: str
    symbol: str
    threshold: str
    threshold_source: str  # e.g. 上年（2024 年）农村居民人均可支配收入 × 50%
    population: str
    conditions: list[str]


def _attribute_label(name: str, columns: dict[str, ColumnSpec]) -> str:
    if name in columns:
        return columns[name].header
    if name in _ATTRIBUTE_LABELS:
        return str(_ATTRIBUTE_LABELS[name])
    return name


def _choice_label(column: ColumnSpec | None, value: Any) -> str:
    """A stored choice value as the department writes it (its first label)."""
    if column is not None and column.type == ColumnType.CHOICE:
        labels = column.labels_by_value().get(value)
        if labels:
            return labels[0]
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def threshold_source_text(rule: dict[str, Any] | None, period: str) -> str:
    """Where a threshold came from: a number in the rule, or a policy parameter times a factor."""
    if not rule:
        return ""
    if not rule.get("parameter"):
        return _("规则设定值 %(value)s") % {"value": format_number(Decimal(str(rule.get("value"))))}
    parameter = PARAMETERS.get(rule["parameter"])
    label = str(parameter.label) if parameter else rule["parameter"]
    offset = int(rule.get("year_offset") or 0)
    year = int(period[:4]) + offset
    if offset == 0:
        when = _("当年（%(year)d 年）") % {"year": year}
    elif offset == -1:
        when = _("上年（%(year)d 年）") % {"year": year}
    else:
        when = _("%(year)d 年") % {"year": year}
    text = f"{when}{label}"
    factor = Decimal(str(rule.get("factor") or 1))
    if factor != 1:
        percent = (factor * 100).normalize()
        text += " × " + f"{percent:f}%"
    return text


def alert_comparison(
    alert: Alert, *, spec: dict[str, Any], columns: list[ColumnSpec] | None
) -> ComparedValues:
    """Describe what ``alert`` compared; ``spec`` is the rule version that raised it."""
    evidence = alert.evidence or {}
    by_field = {c.field: c for c in columns or []}
    aggregate = evidence.get("aggregate") or spec.get("aggregate") or {}
    function = aggregate.get("function") or ""
    measure_field = aggregate.get("field")
    per = spec.get("per") or ""
    months = spec.get("window_months")
    function_label = str(dict(AggregateFunction.choices).get(function, function))
    per_label = str(dict(Per.choices).get(per, ""))
    if function == AggregateFunction.COUNT:
        measure = _("%(per)s统计符合条件的记录条数") % {"per": per_label}
    else:
        measure = _("%(per)s取“%(field)s”的%(function)s") % {
            "per": per_label,
            "field": _attribute_label(measure_field or "", by_field),
            "function": function_label,
        }
    if months and spec.get("feed"):
        measure = _("近 %(months)d 个月内") % {"months": months} + measure
    window = evidence.get("window") or []
    whole = function == AggregateFunction.COUNT or (
        measure_field in by_field and by_field[measure_field].type == ColumnType.INTEGER
    )
    conditions = []
    for condition in spec.get("conditions") or []:
        name = condition.get("field", "")
        column = by_field.get(name)
        raw = condition.get("value")
        values = raw if isinstance(raw, list) else [raw]
        op = dict(ConditionOp.choices).get(condition.get("op"), condition.get("op"))
        shown = "、".join(_choice_label(column, v) for v in values)
        conditions.append(f"{_attribute_label(name, by_field)} {op} {shown}")
    population = evidence.get("population", "")
    source = threshold_source_text(evidence.get("threshold_rule"), alert.period)
    if source and alert.unregistered and spec.get("threshold_unregistered"):
        source += _("（未在册人员适用的标准）")
    return ComparedValues(
        measure=measure,
        window=_("%(start)s 至 %(end)s") % {"start": window[0], "end": window[1]}
        if len(window) == 2
        else "",
        value=format_number(alert.value, whole=whole),
        symbol=COMPARISON_SYMBOLS.get(alert.comparison, alert.comparison),
        threshold=format_number(alert.threshold, whole=whole),
        threshold_source=source,
        population=str(dict(Population.choices).get(population, population)),
        conditions=conditions,
    )


# --- the feed rows -----------------------------------------------------------------------


@dataclass
class EvidenceBatch:
    """The rows of one import batch behind an alert."""

    batch_id: int
    batch: FeedBatch | None
    #: The shown columns' headers, in the source's order; amounts and counts align right.
    headers: list[str] = field(default_factory=list)
    numeric_headers: set[str] = field(default_factory=set)
    #: (row number, [(header, shown value), …]) in file order.
    rows: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)
    #: Why rows could not be shown (batch deleted, staged file gone); empty when all are there.
    problem: str = ""
    missing_rows: list[int] = field(default_factory=list)


@dataclass
class AlertEvidence:
    batches: list[EvidenceBatch]
    shown: int
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > self.shown


_NUMERIC = frozenset({ColumnType.DECIMAL, ColumnType.INTEGER})


def _columns_of(batch: FeedBatch) -> list[ColumnSpec]:
    try:
        return parse_columns(batch.source.columns)
    except ValueError:
        return []


def _shown_columns(batch: FeedBatch, staged: list[str]) -> list[ColumnSpec]:
    """The source's columns found in the staged file; fields staged under an earlier mapping
    still show, under their field name. The ID column is never staged, so never shown."""
    mapped = [c for c in _columns_of(batch) if c.type != ColumnType.ID_NUMBER and c.field in staged]
    known = {c.field for c in mapped}
    extra = [n for n in staged if n not in SYSTEM_FIELDS and n not in known]
    return mapped + [ColumnSpec(field=n, header=n, type=ColumnType.TEXT) for n in extra]


def _read_rows(path: Path, row_numbers: list[int], fields: list[str]) -> dict[int, dict]:
    """Only the wanted rows of a staged file (the filter is pushed into the Parquet reader),
    sealed text opened."""
    table = read_staged(
        path,
        columns=["row_number", *fields],
        filters=[("row_number", "in", row_numbers)],
    )
    return {row["row_number"]: row for row in table.to_pylist()}


def _cell(value: Any, column: ColumnSpec | None, places: dict[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if column is not None:
        if column.type == ColumnType.CHOICE:
            return _choice_label(column, value)
        if column.type == ColumnType.DIVISION:
            return places.get(value, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def _place_names(codes: set[str]) -> dict[str, str]:
    """Village codes as "township village" names, in one query."""
    if not codes:
        return {}
    names = {}
    for division in Division.objects.filter(code__in=codes).select_related("parent"):
        township = (
            division.parent.name
            if division.parent_id and division.level == DivisionLevel.VILLAGE
            else ""
        )
        names[division.code] = f"{township} {division.name}".strip()
    return names


def alert_evidence(alert: Alert) -> AlertEvidence:
    """The feed rows an alert names, grouped by batch, with the source's Chinese headers.

    Two queries (batches, village names) whatever the number of rows.
    """
    wanted: dict[int, list[int]] = defaultdict(list)
    pairs = (alert.evidence or {}).get("rows") or []
    for batch_id, row_number in pairs:
        wanted[int(batch_id)].append(int(row_number))
    batches = {
        b.pk: b for b in FeedBatch.objects.filter(pk__in=list(wanted)).select_related("source")
    }
    found: list[tuple[EvidenceBatch, list[ColumnSpec], dict[int, dict]]] = []
    division_codes: set[str] = set()
    result: list[EvidenceBatch] = []
    for batch_id in sorted(wanted):
        numbers = sorted(set(wanted[batch_id]))
        batch = batches.get(batch_id)
        item = EvidenceBatch(batch_id=batch_id, batch=batch)
        result.append(item)
        if batch is None:
            item.problem = _("导入批次 #%(id)d 已删除，无法显示其中的 %(n)d 行") % {
                "id": batch_id,
                "n": len(numbers),
            }
            continue
        path = Path(batch.parquet_path) if batch.parquet_path else None
        if path is None or not path.exists():
            item.problem = _("该批次的暂存文件已不存在，无法显示其中的 %(n)d 行") % {
                "n": len(numbers)
            }
            continue
        try:
            columns = _shown_columns(batch, pq.read_schema(path).names)
            rows = _read_rows(path, numbers, [c.field for c in columns])
        except (OSError, ValueError) as exc:  # a damaged file: say so instead of failing the page
            logger.warning("evidence of alert %s: cannot read %s: %s", alert.pk, path, exc)
            item.problem = _("该批次的暂存文件无法读取，无法显示其中的 %(n)d 行") % {
                "n": len(numbers)
            }
            continue
        except SealedValueUnreadable:
            logger.warning("evidence of alert %s: sealed text of %s does not open", alert.pk, path)
            item.problem = _(
                "该批次暂存文件中的加密内容无法解密（文件被改动过，或数据密钥已更换），"
                "无法显示其中的 %(n)d 行"
            ) % {"n": len(numbers)}
            continue
        for column in columns:
            if column.type == ColumnType.DIVISION:
                division_codes.update(r[column.field] for r in rows.values() if r[column.field])
        item.headers = [c.header for c in columns]
        item.numeric_headers = {c.header for c in columns if c.type in _NUMERIC}
        item.missing_rows = [n for n in numbers if n not in rows]
        found.append((item, columns, rows))
    places = _place_names(division_codes)
    shown = 0
    for item, columns, rows in found:
        for number in sorted(rows):
            row = rows[number]
            item.rows.append(
                (number, [(c.header, _cell(row[c.field], c, places)) for c in columns])
            )
            shown += 1
    total = int((alert.evidence or {}).get("row_count") or len(pairs))
    return AlertEvidence(batches=result, shown=shown, total=max(total, shown))
