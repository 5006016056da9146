"""From stored rules to compiled queries: validation context, thresholds, compilation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from sqlglot import exp

from shouwang.policy.parameters import PARAMETERS
from shouwang.policy.selectors import policy_value
from shouwang.screening.compiler import ResolvedThresholds, compile_rule
from shouwang.screening.models import FeedSource, Rule
from shouwang.screening.sources import ColumnsInvalid, ColumnSpec, parse_columns
from shouwang.screening.spec import RuleSpec, Threshold, parse_rule_spec

_CENT = Decimal("0.01")


def source_columns() -> dict[str, list[ColumnSpec]]:
    """Column mappings of every source whose mapping is valid, by slug."""
    mapping: dict[str, list[ColumnSpec]] = {}
    for source in FeedSource.objects.all():
        try:
            mapping[source.slug] = parse_columns(source.columns)
        except ColumnsInvalid:
            continue  # an invalid mapping cannot be edited in; skip rather than fail a run
    return mapping


def rule_spec_parse(raw: Any, *, sources: dict[str, list[ColumnSpec]] | None = None) -> RuleSpec:
    """Validate a spec against the current sources and parameters (raises SpecInvalid)."""
    return parse_rule_spec(
        raw, sources=source_columns() if sources is None else sources, parameters=PARAMETERS
    )


def _resolve(threshold: Threshold, period: str) -> Decimal:
    if threshold.parameter is None:
        assert threshold.value is not None
        return threshold.value
    year = int(period[:4]) + threshold.year_offset
    base = policy_value(
        threshold.parameter, year=year, division_code=settings.SHOUWANG_HOME_DIVISION
    )
    return (base * threshold.factor).quantize(_CENT)


def resolve_thresholds(spec: RuleSpec, period: str) -> ResolvedThresholds:
    """Numbers for this period; raises MissingPolicyValue when a parameter has no value."""
    registered = _resolve(spec.threshold, period)
    unregistered = (
        _resolve(spec.threshold_unregistered, period) if spec.threshold_unregistered else registered
    )
    return ResolvedThresholds(registered=registered, unregistered=unregistered)


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule | None
    slug: str
    version: int
    spec: RuleSpec
    thresholds: ResolvedThresholds
    query: exp.Select


def compile_spec(
    *,
    spec: RuleSpec,
    period: str,
    sources: dict[str, list[ColumnSpec]],
    rule: Rule | None = None,
    slug: str = "",
    version: int = 0,
) -> CompiledRule:
    thresholds = resolve_thresholds(spec, period)
    query = compile_rule(
        spec,
        columns=sources.get(spec.feed) if spec.feed else None,
        period=period,
        thresholds=thresholds,
    )
    return CompiledRule(
        rule=rule,
        slug=rule.slug if rule else slug,
        version=rule.version if rule else version,
        spec=spec,
        thresholds=thresholds,
        query=query,
    )
