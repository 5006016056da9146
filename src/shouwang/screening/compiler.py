"""Rule specs → sqlglot expressions, one SELECT per rule, for any engine sqlglot speaks.

Only validated specs reach this module (``spec.parse_rule_spec``): identifiers come from the
feed sources' column mappings, values are turned into typed literals, and thresholds are
numbers resolved from policy parameters before compiling. No SQL text is ever built from
strings; engines render the expression in their dialect.

Tables a compiled query reads:

- ``feed_<source>``: staged rows (``batch_id``, ``row_number``, ``person_index``,
  ``birth_date``, ``id_region`` and the source's fields);
- ``persons``: ``person_index``, ``household_id``, ``member_id``, ``labour_capable``;
- ``households``: ``household_id``, ``village_code``, ``household_type``,
  ``monitoring_status``, ``labour_count``, ``member_count``, ``per_capita_net_income``,
  ``income_year``.

Every query returns the columns in ``RESULT_COLUMNS``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from shouwang.screening.choices import (
    AggregateFunction,
    ColumnType,
    Comparison,
    ConditionOp,
    Per,
    Population,
)
from shouwang.screening.sources import ColumnSpec, event_date_field
from shouwang.screening.spec import Condition, RuleSpec

RESULT_COLUMNS = (
    "subject_key",
    "household_id",
    "member_id",
    "person_index",
    "name",
    "feed_village",
    "id_region",
    "value",
    "threshold",
    "evidence",
    "row_count",
)
#: Evidence ids pack (batch id, row number) into one integer both engines aggregate cheaply.
EVIDENCE_SHIFT = 1 << 32
VALUE_TYPE = "DECIMAL(20, 2)"

_COMPARE = {
    Comparison.GT: exp.GT,
    Comparison.GE: exp.GTE,
    Comparison.LT: exp.LT,
    Comparison.LE: exp.LTE,
    Comparison.EQ: exp.EQ,
}
_CONDITION = {
    ConditionOp.EQ: exp.EQ,
    ConditionOp.NE: exp.NEQ,
    ConditionOp.GT: exp.GT,
    ConditionOp.GE: exp.GTE,
    ConditionOp.LT: exp.LT,
    ConditionOp.LE: exp.LTE,
}


def feed_table_name(slug: str) -> str:
    return "feed_" + slug.replace("-", "_")


def pack_evidence(batch_id: int, row_number: int) -> int:
    return batch_id * EVIDENCE_SHIFT + row_number


def unpack_evidence(value: int) -> tuple[int, int]:
    return divmod(int(value), EVIDENCE_SHIFT)


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date


def period_window(period: str, months: int) -> Window:
    """The ``months`` calendar months ending with ``period`` ("2026-10")."""
    year, month = (int(part) for part in period.split("-"))
    end = dt.date(year, month, calendar.monthrange(year, month)[1])
    index = year * 12 + (month - 1) - (months - 1)
    return Window(start=dt.date(index // 12, index % 12 + 1, 1), end=end)


@dataclass(frozen=True)
class ResolvedThresholds:
    registered: Decimal
    unregistered: Decimal


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _number(value: Decimal | int) -> exp.Expression:
    text = format(Decimal(value), "f")
    literal = exp.Literal.number(text.lstrip("-"))
    return exp.Neg(this=literal) if text.startswith("-") else literal


def _decimal(value: Decimal) -> exp.Expression:
    return exp.cast(_number(value.quantize(Decimal("0.01"))), VALUE_TYPE)


def _date(value: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def _literal(value) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, Decimal | int):
        return _number(value)
    return exp.Literal.string(str(value))


def _age(birth: exp.Expression, on: exp.Expression) -> exp.Expression:
    """Whole years between two dates: (yyyymmdd(on) − yyyymmdd(birth)) div 10000."""

    def stamp(day: exp.Expression) -> exp.Expression:
        return exp.Add(
            this=exp.Add(
                this=exp.Mul(this=exp.Year(this=day.copy()), expression=_number(10000)),
                expression=exp.Mul(this=exp.Month(this=day.copy()), expression=_number(100)),
            ),
            expression=exp.Day(this=day.copy()),
        )

    # Each stamp is parenthesised: sqlglot prints the tree as built, and a bare
    # ``a - y*10000 + m*100 + d`` would add the birth month and day instead of subtracting them.
    return exp.Floor(
        this=exp.Div(
            this=exp.paren(exp.Sub(this=exp.paren(stamp(on)), expression=exp.paren(stamp(birth)))),
            expression=_number(10000),
        )
    )


def _condition_expression(
    condition: Condition, *, columns: dict[str, ColumnSpec], date_column: exp.Expression
) -> exp.Expression:
    field = condition.field
    if field == "person.age":
        operand = _age(_col("birth_date", "f"), date_column)
    elif field == "person.labour_capable":
        operand = _col("labour_capable", "p")
    elif field.startswith("household."):
        operand = _col(field.split(".", 1)[1], "h")
    else:
        column = columns[field]
        operand = _col(field, "f")
        if column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
            operand = exp.cast(operand, VALUE_TYPE)
    if condition.op in (ConditionOp.IN, ConditionOp.NOT_IN):
        member = exp.In(this=operand, expressions=[_literal(v) for v in condition.value])
        return exp.Not(this=member) if condition.op == ConditionOp.NOT_IN else member
    return _CONDITION[condition.op](this=operand, expression=_literal(condition.value))


def _aggregate(
    function: str,
    measure: exp.Expression | None,
    event_date: exp.Expression,
    evidence_id: exp.Expression,
) -> exp.Expression:
    if function == AggregateFunction.COUNT:
        return exp.Count(this=exp.Star())
    assert measure is not None
    if function == AggregateFunction.SUM:
        return exp.Sum(this=measure)
    if function == AggregateFunction.MAX:
        return exp.Max(this=measure)
    if function == AggregateFunction.MIN:
        return exp.Min(this=measure)
    return _latest(measure, event_date, evidence_id)


def _latest(
    measure: exp.Expression, event_date: exp.Expression, evidence_id: exp.Expression
) -> exp.Expression:
    """The measure of the latest row that has one.

    Rows of one day are ordered by (batch, row), so the answer, and the alert fingerprint
    built from it, are the same on every run and engine. Rows without a value are skipped
    explicitly: DuckDB's ARG_MAX skips them by itself, Spark's MAX_BY would return NULL.
    """
    order = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("event_date"), expression=event_date),
            exp.PropertyEQ(this=exp.to_identifier("evidence_id"), expression=evidence_id),
        ]
    )
    return exp.Filter(
        this=exp.ArgMax(this=measure, expression=order),
        expression=exp.Where(this=exp.not_(exp.Is(this=measure.copy(), expression=exp.Null()))),
    )


def _population_condition(population: tuple[str, ...], household: str = "h") -> exp.Expression:
    """Which rows the rule applies to, judged on the joined household (NULL = unregistered)."""
    status = _col("monitoring_status", household)
    kind = _col("household_type", household)
    parts: list[exp.Expression] = []
    for group in population:
        if group == Population.MONITORED:
            parts.append(exp.EQ(this=status, expression=exp.Literal.string("risk_unresolved")))
        elif group == Population.RISK_ELIMINATED:
            parts.append(
                exp.EQ(this=status.copy(), expression=exp.Literal.string("risk_eliminated"))
            )
        elif group == Population.POVERTY_EXITED:
            parts.append(
                exp.and_(
                    exp.EQ(this=status.copy(), expression=exp.Literal.string("not_monitored")),
                    exp.EQ(this=kind.copy(), expression=exp.Literal.string("poverty_exited")),
                )
            )
        elif group == Population.ORDINARY:
            parts.append(
                exp.and_(
                    exp.EQ(this=status.copy(), expression=exp.Literal.string("not_monitored")),
                    exp.NEQ(this=kind.copy(), expression=exp.Literal.string("poverty_exited")),
                )
            )
        elif group == Population.UNREGISTERED:
            parts.append(exp.Is(this=_col("household_id", household), expression=exp.Null()))
    return exp.paren(exp.or_(*parts)) if len(parts) > 1 else parts[0]


def _threshold_expression(
    thresholds: ResolvedThresholds, household_id: exp.Expression
) -> exp.Expression:
    if thresholds.registered == thresholds.unregistered:
        return _decimal(thresholds.registered)
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.Is(this=household_id, expression=exp.Null()),
                true=_decimal(thresholds.unregistered),
            )
        ],
        default=_decimal(thresholds.registered),
    )


def _null(type_: str) -> exp.Expression:
    return exp.cast(exp.Null(), type_)


def compile_rule(
    spec: RuleSpec,
    *,
    columns: list[ColumnSpec] | None,
    period: str,
    thresholds: ResolvedThresholds,
) -> exp.Select:
    """The SELECT that finds what ``spec`` flags for ``period``."""
    if spec.feed is None:
        return _compile_registry_rule(spec, period=period, thresholds=thresholds)
    assert columns is not None
    window = period_window(period, spec.window_months)
    if spec.per == Per.VILLAGE:
        return _compile_village_rule(spec, columns=columns, window=window, thresholds=thresholds)
    return _compile_person_rule(spec, columns=columns, window=window, thresholds=thresholds)


def _window_condition(date_column: exp.Expression, window: Window) -> exp.Expression:
    return exp.Between(this=date_column, low=_date(window.start), high=_date(window.end))


def _evidence_id() -> exp.Expression:
    return exp.Add(
        this=exp.Mul(
            this=exp.cast(_col("batch_id", "f"), "BIGINT"), expression=_number(EVIDENCE_SHIFT)
        ),
        expression=exp.cast(_col("row_number", "f"), "BIGINT"),
    )


def _measure_expression(spec: RuleSpec) -> exp.Expression:
    if spec.measure is None:
        return _number(1)
    return exp.cast(_col(spec.measure, "f"), VALUE_TYPE)


#: Columns of the alerted subjects carried from the totals to the evidence pass.
_CARRIED = ("lone_person", "value", "threshold", "row_count")


def _matched_rows(
    spec: RuleSpec,
    *,
    columns: list[ColumnSpec],
    window: Window,
    outputs: tuple[str, ...],
    persons: exp.Expression | None = None,
) -> exp.Select:
    """The feed rows ``spec`` counts with their person (and household when a condition needs
    it), with only the ``outputs`` columns a pass reads.

    By default every row is kept, joined to the registry's persons (NULL when unregistered);
    ``persons`` instead keeps only the rows of the people it lists (``_alerted_people``).
    """
    by_field = {c.field: c for c in columns}
    date_column = _col(event_date_field(columns), "f")
    has_village = "village" in by_field and by_field["village"].type == ColumnType.DIVISION
    has_name = "name" in by_field
    needs_household = any(c.field.startswith("household.") for c in spec.conditions)
    available = {
        "evidence_id": _evidence_id,
        "person_index": lambda: _col("person_index", "f"),
        "name": lambda: _col("name", "f") if has_name else _null("VARCHAR"),
        "feed_village": lambda: _col("village", "f") if has_village else _null("VARCHAR"),
        "id_region": lambda: _col("id_region", "f"),
        "household_id": lambda: _col("household_id", "p"),
        "member_id": lambda: _col("member_id", "p"),
        "labour_capable": lambda: _col("labour_capable", "p"),
        "measure": lambda: _measure_expression(spec),
        "event_date": date_column.copy,
        **{name: (lambda name=name: _col(name, "p")) for name in _CARRIED},
    }
    where = [
        exp.not_(exp.Is(this=_col("person_index", "f"), expression=exp.Null())),
        _window_condition(date_column, window),
    ]
    where += [
        _condition_expression(c, columns=by_field, date_column=date_column) for c in spec.conditions
    ]
    matched = (
        exp.select(*[exp.alias_(available[name](), name) for name in outputs])
        .from_(exp.alias_(exp.to_table(feed_table_name(spec.feed)), "f", table=True))
        .join(
            exp.alias_(persons or exp.to_table("persons"), "p", table=True),
            on=exp.EQ(this=_col("person_index", "p"), expression=_col("person_index", "f")),
            join_type="inner" if persons is not None else "left",
        )
    )
    if needs_household:
        matched = matched.join(
            exp.alias_(exp.to_table("households"), "h", table=True),
            on=exp.EQ(this=_col("household_id", "h"), expression=_col("household_id", "p")),
            join_type="left",
        )
    return matched.where(exp.and_(*where))


def _subject_keys(spec: RuleSpec, table: str | None = None) -> dict[str, exp.Expression]:
    """The columns that tell subjects apart: a person, or a household (an unregistered
    person, who has no household, stands alone)."""
    if spec.per == Per.HOUSEHOLD:
        return {
            "household_id": _col("household_id", table),
            "lone_person": exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Is(this=_col("household_id", table), expression=exp.Null()),
                        true=_col("person_index", table),
                    )
                ],
            ),
        }
    return {"person_index": _col("person_index", table)}


def _subject_key(spec: RuleSpec, table: str) -> exp.Expression:
    """The subject's key, ``h:<household id>`` or ``p:<person index>``, from the columns of
    ``_subject_keys``."""
    if spec.per == Per.HOUSEHOLD:
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.not_(exp.Is(this=_col("household_id", table), expression=exp.Null())),
                    true=exp.DPipe(
                        this=exp.Literal.string("h:"),
                        expression=exp.cast(_col("household_id", table), "VARCHAR"),
                        safe=True,
                    ),
                )
            ],
            default=exp.DPipe(
                this=exp.Literal.string("p:"), expression=_col("lone_person", table), safe=True
            ),
        )
    return exp.DPipe(
        this=exp.Literal.string("p:"), expression=_col("person_index", table), safe=True
    )


def _alerted_people(spec: RuleSpec, alerted: exp.Select) -> exp.Select:
    """The people whose feed rows make up an alerted subject's evidence, as ``persons`` rows
    (NULL member and labour capacity when unregistered) with the subject's figures.

    A person subject already carries their registry columns from the totals. A household's
    members come from the registry; an unregistered person is their own subject
    (``lone_person``), whom the LEFT JOIN leaves alone."""
    if spec.per != Per.HOUSEHOLD:
        return alerted
    return (
        exp.select(
            exp.alias_(
                exp.func("COALESCE", _col("person_index", "p"), _col("lone_person", "a")),
                "person_index",
            ),
            _col("household_id", "a"),
            _col("member_id", "p"),
            _col("labour_capable", "p"),
            *[_col(name, "a") for name in _CARRIED],
        )
        .from_(exp.alias_(alerted.subquery(), "a", table=True))
        .join(
            exp.alias_(exp.to_table("persons"), "p", table=True),
            on=exp.EQ(this=_col("household_id", "p"), expression=_col("household_id", "a")),
            join_type="left",
        )
    )


def _compile_person_rule(
    spec: RuleSpec, *, columns: list[ColumnSpec], window: Window, thresholds: ResolvedThresholds
) -> exp.Select:
    """Aggregate first, keep the subjects over the threshold, then collect their evidence.

    Carrying every group's evidence list through the aggregation costs memory and time in
    proportion to the feed, while few groups raise an alert. So totals are computed over
    narrow rows and filtered by population and threshold; then the feed rows are read again,
    joined only to the people of the alerted subjects, for the evidence and descriptive
    columns. Both passes keep the same rows of those subjects, so values, counts and evidence
    are those of a single pass.
    """
    keys = _subject_keys(spec)
    per_household = spec.per == Per.HOUSEHOLD
    # A household's id is its key. A person is in the registry once (unique blind index),
    # so all their rows join the same member, whose columns are carried for the evidence pass.
    registry = () if per_household else ("household_id", "member_id", "labour_capable")
    totals_rows = _matched_rows(
        spec,
        columns=columns,
        window=window,
        outputs=("person_index", "household_id", "measure", "event_date")
        + registry[1:]
        + (("evidence_id",) if spec.function == AggregateFunction.LATEST else ()),
    )
    totals = (
        exp.select(
            *[exp.alias_(expression, name) for name, expression in keys.items()],
            *[exp.alias_(exp.Max(this=_col(name)), name) for name in registry],
            exp.alias_(
                exp.cast(
                    _aggregate(
                        spec.function, _col("measure"), _col("event_date"), _col("evidence_id")
                    ),
                    VALUE_TYPE,
                ),
                "value",
            ),
            exp.alias_(exp.Count(this=exp.Star()), "row_count"),
        )
        .from_(exp.alias_(totals_rows.subquery(), "m", table=True))
        .group_by(*[expression.copy() for expression in keys.values()])
    )
    subject_columns = [*keys, *registry]
    household_id = _col("household_id", "t")
    threshold = _threshold_expression(thresholds, household_id)
    alerted = (
        exp.select(
            *[_col(name, "t") for name in subject_columns],
            _col("value", "t"),
            exp.alias_(threshold, "threshold"),
            _col("row_count", "t"),
        )
        .from_(exp.alias_(totals.subquery(), "t", table=True))
        .join(
            exp.alias_(exp.to_table("households"), "h", table=True),
            on=exp.EQ(this=_col("household_id", "h"), expression=household_id.copy()),
            join_type="left",
        )
        .where(
            exp.and_(
                _population_condition(spec.population),
                _COMPARE[spec.comparison](this=_col("value", "t"), expression=threshold.copy()),
            )
        )
    )

    # One group per alerted subject: its key and the figures the totals found for it.
    group = [
        *dict.fromkeys([*keys, "household_id"]),
        "value",
        "threshold",
        "row_count",
    ]
    evidence_rows = _matched_rows(
        spec,
        columns=columns,
        window=window,
        outputs=(
            "evidence_id",
            "person_index",
            "name",
            "feed_village",
            "id_region",
            "member_id",
            *[name for name in group if name != "person_index"],
        ),
        persons=_alerted_people(spec, alerted).subquery(),
    )
    return (
        exp.select(
            exp.alias_(_subject_key(spec, "m"), "subject_key"),
            _col("household_id", "m"),
            exp.alias_(
                _null("BIGINT") if per_household else exp.Max(this=_col("member_id", "m")),
                "member_id",
            ),
            exp.alias_(exp.Max(this=_col("person_index", "m")), "person_index"),
            exp.alias_(exp.Max(this=_col("name", "m")), "name"),
            exp.alias_(exp.Max(this=_col("feed_village", "m")), "feed_village"),
            exp.alias_(exp.Max(this=_col("id_region", "m")), "id_region"),
            _col("value", "m"),
            _col("threshold", "m"),
            exp.alias_(exp.ArrayAgg(this=_col("evidence_id", "m")), "evidence"),
            _col("row_count", "m"),
        )
        .from_(exp.alias_(evidence_rows.subquery(), "m", table=True))
        .group_by(*[_col(name, "m") for name in group])
    )


def _compile_village_rule(
    spec: RuleSpec, *, columns: list[ColumnSpec], window: Window, thresholds: ResolvedThresholds
) -> exp.Select:
    by_field = {c.field: c for c in columns}
    date_column = _col(event_date_field(columns), "f")
    where = [
        exp.not_(exp.Is(this=_col("village", "f"), expression=exp.Null())),
        _window_condition(date_column, window),
    ]
    where += [
        _condition_expression(c, columns=by_field, date_column=date_column) for c in spec.conditions
    ]
    grouped = (
        exp.select(
            exp.alias_(_col("village", "f"), "feed_village"),
            exp.alias_(
                exp.cast(
                    _aggregate(
                        spec.function,
                        _measure_expression(spec),
                        date_column.copy(),
                        _evidence_id(),
                    ),
                    VALUE_TYPE,
                ),
                "value",
            ),
            exp.alias_(exp.ArrayAgg(this=_evidence_id()), "evidence"),
            exp.alias_(exp.Count(this=exp.Star()), "row_count"),
        )
        .from_(exp.alias_(exp.to_table(feed_table_name(spec.feed)), "f", table=True))
        .where(exp.and_(*where))
        .group_by(_col("village", "f"))
    )
    threshold = _decimal(thresholds.registered)
    return (
        exp.select(
            exp.alias_(
                exp.DPipe(
                    this=exp.Literal.string("h:"),
                    expression=exp.cast(_col("household_id", "h"), "VARCHAR"),
                    safe=True,
                ),
                "subject_key",
            ),
            _col("household_id", "h"),
            exp.alias_(_null("BIGINT"), "member_id"),
            exp.alias_(_null("VARCHAR"), "person_index"),
            exp.alias_(_null("VARCHAR"), "name"),
            _col("feed_village", "g"),
            exp.alias_(_null("VARCHAR"), "id_region"),
            _col("value", "g"),
            exp.alias_(threshold, "threshold"),
            _col("evidence", "g"),
            _col("row_count", "g"),
        )
        .from_(exp.alias_(grouped.subquery(), "g", table=True))
        .join(
            exp.alias_(exp.to_table("households"), "h", table=True),
            on=exp.EQ(this=_col("village_code", "h"), expression=_col("feed_village", "g")),
        )
        .where(
            exp.and_(
                _population_condition(spec.population),
                _COMPARE[spec.comparison](this=_col("value", "g"), expression=threshold.copy()),
            )
        )
    )


def _compile_registry_rule(
    spec: RuleSpec, *, period: str, thresholds: ResolvedThresholds
) -> exp.Select:
    assert spec.measure is not None
    value = exp.cast(_col(spec.measure.split(".", 1)[1], "h"), VALUE_TYPE)
    threshold = _decimal(thresholds.registered)
    return (
        exp.select(
            exp.alias_(
                exp.DPipe(
                    this=exp.Literal.string("h:"),
                    expression=exp.cast(_col("household_id", "h"), "VARCHAR"),
                    safe=True,
                ),
                "subject_key",
            ),
            _col("household_id", "h"),
            exp.alias_(_null("BIGINT"), "member_id"),
            exp.alias_(_null("VARCHAR"), "person_index"),
            exp.alias_(_null("VARCHAR"), "name"),
            exp.alias_(_null("VARCHAR"), "feed_village"),
            exp.alias_(_null("VARCHAR"), "id_region"),
            exp.alias_(value, "value"),
            exp.alias_(threshold, "threshold"),
            exp.alias_(_null("ARRAY<BIGINT>"), "evidence"),
            exp.alias_(exp.cast(_number(0), "BIGINT"), "row_count"),
        )
        .from_(exp.alias_(exp.to_table("households"), "h", table=True))
        .where(
            exp.and_(
                exp.not_(exp.Is(this=_col("income_year", "h"), expression=exp.Null())),
                _population_condition(spec.population),
                _COMPARE[spec.comparison](this=value.copy(), expression=threshold.copy()),
            )
        )
    )
