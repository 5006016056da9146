"""Coverage and consistency of assistance (帮扶覆盖与一致性), per area.

For the monitored households of the actor's area: how many have a plan, a delivered measure,
a development-type measure where someone can work; whose risks no measure answers; which
labour-capable households live on backstop measures only; and 因务工就业不稳 recorded in a
household where nobody can work (domain.md §6, the national data-quality checks).

Every figure comes from one query: the households joined to their plan measures, grouped
per household with conditional counts (how many measures count, are delivered, are
development-type, answer each risk type, …) and EXISTS for labour, then summed per code
prefix (township: the village code's first 9 digits). A county of 30,000 monitored households
costs the same few queries as a village (about 0.3 s on PostgreSQL, 0.5 s on SQLite). The
problem lists filter the same query. Which measure groups answer which risk type is data
(``MeasureGroup.covers_risk_types``), read from the database.

Definitions:

- monitored: 风险未消除 and 风险已消除 households (``unresolved_only``: 风险未消除 only);
- a plan measure counts unless it is stopped; "with a plan" means at least one that counts,
  "delivered" one whose status is delivered;
- labour-capable: a member with an ordinary or skilled labour skill (``LABOUR_CAPABLE``);
- uncovered: a household with a plan whose risk types include one that no counting measure
  of a covering group answers (risk types no group covers cannot be checked and are skipped;
  households without a plan are counted as such, not twice);
- backstop only: labour-capable, with a plan whose counting measures are all 综合保障;
- 因务工就业不稳 without labour: that risk, and no member who can work at all (ordinary,
  skilled or weak labour), as ``recommend.household_labour`` reads "整户无劳动能力".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.assistance import permissions as perms
from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import MeasureGroup, PlanMeasure
from shouwang.core.audit import audit_record
from shouwang.core.choices import LEVEL_PREFIX_LENGTH, AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import actor_prefixes, area_q, visible_divisions
from shouwang.core.models import Division, User
from shouwang.registry.choices import LABOUR_CAPABLE, SOME_LABOUR, MonitoringStatus, RiskType
from shouwang.registry.io.columns import division_short_name
from shouwang.registry.models import RISK_FIELDS, Household, Member

#: The group whose measures are social-security backstops (低保, 特困供养, …): a household
#: that can work and has only these is flagged (domain.md §6).
BACKSTOP_GROUP_CODE = "comprehensive"
MONITORED_STATUSES = (MonitoringStatus.RISK_UNRESOLVED, MonitoringStatus.RISK_ELIMINATED)
TOWNSHIP_DIGITS = LEVEL_PREFIX_LENGTH[DivisionLevel.TOWNSHIP]
#: Households whose problem details are read in one query when exporting.
EXPORT_CHUNK = 2000


class Problem:
    """The problem lists; ``LABELS`` are their titles on pages and sheet names."""

    UNCOVERED = "uncovered"
    BACKSTOP_ONLY = "backstop_only"
    UNSTABLE_WITHOUT_LABOUR = "unstable_without_labour"
    WITHOUT_PLAN = "without_plan"

    LABELS = {
        UNCOVERED: gettext_lazy("风险无对应措施"),
        BACKSTOP_ONLY: gettext_lazy("有劳动力仅兜底保障"),
        UNSTABLE_WITHOUT_LABOUR: gettext_lazy("因务工就业不稳但无劳动力"),
        WITHOUT_PLAN: gettext_lazy("未制定帮扶计划"),
    }
    #: The annotation each list filters on (named apart from the counts' aliases).
    FLAGS = {
        UNCOVERED: "is_uncovered",
        BACKSTOP_ONLY: "is_backstop_only",
        UNSTABLE_WITHOUT_LABOUR: "is_unstable_without_labour",
        WITHOUT_PLAN: "is_without_plan",
    }
    ALL = (UNCOVERED, BACKSTOP_ONLY, UNSTABLE_WITHOUT_LABOUR, WITHOUT_PLAN)


def can_view_coverage(actor: User | None) -> bool:
    """Planners (village, township, district staff) in their area; departments do not."""
    return perms.can_plan(actor)


# --- the households with their facts -------------------------------------------------------

#: The households' plan measures, reached through the plan (one per household).
MEASURES = "assistance_plan__measures"
#: Statuses of the measures that count: all but stopped.
COUNTING_STATUSES = tuple(s for s in MeasureStatus.values if s != MeasureStatus.STOPPED)


@dataclass(frozen=True)
class Catalogue:
    """What the checks read from the measure groups: which groups answer which risk type,
    and every group but 综合保障 (a measure of one of them ends "backstop only")."""

    covers: dict[str, frozenset[int]]
    beyond_backstop: tuple[int, ...]


def measure_catalogue() -> Catalogue:
    covers: dict[str, set[int]] = defaultdict(set)
    beyond_backstop = []
    for group_id, code, risk_types in MeasureGroup.objects.values_list(
        "id", "code", "covers_risk_types"
    ).order_by("id"):
        for risk_type in risk_types or ():
            covers[risk_type].add(group_id)
        if code != BACKSTOP_GROUP_CODE:
            beyond_backstop.append(group_id)
    return Catalogue(
        covers={risk: frozenset(ids) for risk, ids in covers.items()},
        beyond_backstop=tuple(beyond_backstop),
    )


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL compiles these wide aggregate queries with JIT, which at county scale costs
    seconds more than running them (0.6 s against 3 to 5 s for 30,000 households): off for
    the current transaction, on PostgreSQL only."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _measures(**lookups: Any) -> Q:
    return Q(**{f"{MEASURES}__{name}": value for name, value in lookups.items()})


def _counting(**lookups: Any) -> Count:
    """How many of the household's counting measures fit ``lookups``."""
    return Count(MEASURES, filter=_measures(status__in=COUNTING_STATUSES, **lookups))


def _has_risk(risk_type: str) -> Q:
    q = Q()
    for name in RISK_FIELDS:
        q |= Q(**{name: risk_type})
    return q


def _boolean(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _with_facts(households: QuerySet[Household], catalogue: Catalogue) -> QuerySet[Household]:
    """``households``, one row each (grouped over their plan measures), with the facts every
    figure and list reads: counts of their measures by kind, whether someone can work, and
    the flags built from those. Joins and conditional counts rather than EXISTS per figure:
    each plan measure is read once, whatever the number of checks."""
    answering = {
        f"n_answering_{index}": _counting(measure__group_id__in=sorted(group_ids))
        for index, (_risk, group_ids) in enumerate(sorted(catalogue.covers.items()))
    }
    households = households.annotate(
        n_counting=_counting(),
        n_delivered=Count(MEASURES, filter=_measures(status=MeasureStatus.DELIVERED)),
        n_development=_counting(measure__development=True),
        n_beyond_backstop=_counting(measure__group_id__in=catalogue.beyond_backstop)
        if catalogue.beyond_backstop
        else Value(0),
        can_work=Exists(
            Member.objects.filter(household=OuterRef("pk"), labour_skill__in=LABOUR_CAPABLE)
        ),
        has_some_labour=Exists(
            Member.objects.filter(household=OuterRef("pk"), labour_skill__in=SOME_LABOUR)
        ),
        **answering,
    )
    # Some risk type of the household that no counting measure of an answering group meets
    # (risk types no group answers cannot be checked).
    unanswered = None
    for index, (risk_type, _ids) in enumerate(sorted(catalogue.covers.items())):
        term = _has_risk(risk_type) & Q(**{f"n_answering_{index}": 0})
        unanswered = term if unanswered is None else unanswered | term
    has_plan = Q(n_counting__gt=0)
    return households.annotate(
        has_plan=_boolean(has_plan),
        has_delivered=_boolean(Q(n_delivered__gt=0)),
        has_development=_boolean(Q(n_development__gt=0)),
        is_without_plan=_boolean(Q(n_counting=0)),
        is_uncovered=_boolean(has_plan & unanswered)
        if unanswered is not None
        else Value(False, output_field=BooleanField()),
        is_backstop_only=_boolean(has_plan & Q(can_work=True, n_beyond_backstop=0)),
        is_unstable_without_labour=_boolean(
            _has_risk(RiskType.UNSTABLE_EMPLOYMENT) & Q(has_some_labour=False)
        ),
    )


def monitored_households(
    *, actor: User | None, unresolved_only: bool = False, area: Division | None = None
) -> QuerySet[Household]:
    """Monitored households of the actor's area (and of ``area`` in it, when given)."""
    if not can_view_coverage(actor):
        return Household.objects.none()
    statuses = MONITORED_STATUSES[:1] if unresolved_only else MONITORED_STATUSES
    households = Household.objects.filter(area_q(actor, "village__code")).filter(
        monitoring_status__in=statuses
    )
    if area is not None:
        households = households.filter(village__code__startswith=area.prefix)
    return households


# --- the per-area table --------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class CoverageRow:
    """One area's figures (or the total's, with no division)."""

    division: Division | None
    monitored: int = 0
    with_plan: int = 0
    delivered: int = 0
    labour_capable: int = 0
    with_development: int = 0
    uncovered: int = 0
    backstop_only: int = 0
    unstable_without_labour: int = 0

    FIGURES = (
        "monitored",
        "with_plan",
        "delivered",
        "labour_capable",
        "with_development",
        "uncovered",
        "backstop_only",
        "unstable_without_labour",
    )

    @property
    def name(self) -> str:
        if self.division is None:
            return _("合计")
        return division_short_name(self.division.name)

    @property
    def without_plan(self) -> int:
        return self.monitored - self.with_plan

    @property
    def plan_share(self) -> float | None:
        return _share(self.with_plan, self.monitored)

    @property
    def delivered_share(self) -> float | None:
        return _share(self.delivered, self.monitored)

    @property
    def development_share(self) -> float | None:
        """Of the labour-capable households, those with a development-type measure."""
        return _share(self.with_development, self.labour_capable)

    @property
    def problems(self) -> int:
        return self.uncovered + self.backstop_only + self.unstable_without_labour

    def add(self, other: CoverageRow) -> None:
        for name in self.FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class CoverageReport:
    rows: list[CoverageRow]
    total: CoverageRow
    #: The level of the rows: townships for a county, villages for a township or village.
    level: int
    #: The township drilled into, if any.
    township: Division | None = None
    unresolved_only: bool = False
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def level_label(self) -> str:
        return str(DivisionLevel(self.level).label)


#: The facts the per-area table reads, in this order.
FACTS = (
    "village_id",
    "has_plan",
    "has_delivered",
    "can_work",
    "has_development",
    "is_uncovered",
    "is_backstop_only",
    "is_unstable_without_labour",
)


def _tally(households: QuerySet[Household], digits: int) -> dict[str, CoverageRow]:
    """Figures per code prefix of ``digits`` digits: one query, one row per household,
    summed here (counting households over their measures needs two levels of grouping)."""
    rows: dict[str, CoverageRow] = {}
    with _without_jit():
        facts = list(_with_facts(households, measure_catalogue()).values_list(*FACTS))
    for village_id, plan, delivered, work, development, uncovered, backstop, unstable in facts:
        row = rows.setdefault(village_id[:digits], CoverageRow(None))
        row.monitored += 1
        row.with_plan += bool(plan)
        row.delivered += bool(delivered)
        row.labour_capable += bool(work)
        row.with_development += bool(work and development)
        row.uncovered += bool(uncovered)
        row.backstop_only += bool(backstop)
        row.unstable_without_labour += bool(unstable)
    return rows


def coverage_township(*, actor: User | None, code: str) -> Division:
    """A township of the actor's area to drill into; Division.DoesNotExist (404) otherwise."""
    return (
        visible_divisions(actor)
        .filter(level=DivisionLevel.TOWNSHIP)
        .select_related("parent")
        .get(code=code)
    )


def coverage_area(*, actor: User | None, code: str) -> Division:
    """A township or village of the actor's area (the problem lists' filter); 404 otherwise."""
    return (
        visible_divisions(actor)
        .filter(level__in=(DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE))
        .select_related("parent")
        .get(code=code)
    )


def _row_level(actor: User | None, township: Division | None) -> int:
    if township is not None or actor is None or actor.is_superuser:
        return DivisionLevel.VILLAGE if township is not None else DivisionLevel.TOWNSHIP
    prefixes = actor_prefixes(actor)
    if prefixes and min(len(p) for p in prefixes) < TOWNSHIP_DIGITS:
        return DivisionLevel.TOWNSHIP
    return DivisionLevel.VILLAGE


def coverage_report(
    *, actor: User | None, township: Division | None = None, unresolved_only: bool = False
) -> CoverageReport:
    """One row per child area of the actor's area (townships for a county user, villages for
    a township or village user or under ``township``) and the total. Three queries: the
    measure groups, the grouped counts, the child divisions."""
    level = _row_level(actor, township)
    digits = LEVEL_PREFIX_LENGTH[DivisionLevel(level)]
    households = monitored_households(actor=actor, unresolved_only=unresolved_only, area=township)
    figures = _tally(households, digits)
    children = visible_divisions(actor).filter(level=level)
    if township is not None:
        children = children.filter(code__startswith=township.prefix)
    if not can_view_coverage(actor):
        children = children.none()
    divisions = {d.code[:digits]: d for d in children.order_by("code")}
    rows = []
    total = CoverageRow(None)
    for prefix in sorted(set(divisions) | set(figures)):
        row = figures.get(prefix) or CoverageRow(None)
        # A household filed under a code with no division row is shown by its code.
        row.division = divisions.get(prefix) or Division(
            code=prefix.ljust(12, "0"), name=prefix, level=level
        )
        rows.append(row)
        total.add(row)
    return CoverageReport(
        rows=rows, total=total, level=level, township=township, unresolved_only=unresolved_only
    )


def coverage_summary(*, actor: User | None, unresolved_only: bool = False) -> CoverageRow:
    """The total alone, for the home page (two queries)."""
    households = monitored_households(actor=actor, unresolved_only=unresolved_only)
    total = CoverageRow(None)
    for row in _tally(households, 0).values():
        total.add(row)
    return total


# --- the problem lists ---------------------------------------------------------------------


def coverage_problem_households(
    *,
    actor: User | None,
    problem: str,
    area: Division | None = None,
    unresolved_only: bool = False,
    catalogue: Catalogue | None = None,
) -> QuerySet[Household]:
    """The monitored households of one problem list, by village and household number.
    Evaluate it inside ``_without_jit`` (``coverage_problem_page`` does)."""
    if problem not in Problem.FLAGS:
        raise ApplicationError(_("未知的问题类别：%(problem)s") % {"problem": problem})
    households = monitored_households(actor=actor, unresolved_only=unresolved_only, area=area)
    return (
        _with_facts(households, catalogue or measure_catalogue())
        .filter(**{Problem.FLAGS[problem]: True})
        .select_related("village", "village__parent")
        .order_by("village_id", "household_number")
    )


def coverage_problem_page(
    *,
    actor: User | None,
    problem: str,
    area: Division | None = None,
    unresolved_only: bool = False,
    page_number: Any = 1,
    per_page: int = 25,
) -> tuple[Page, list[ProblemRow]]:
    """One page of a problem list with what is wrong with each household."""
    catalogue = measure_catalogue()
    households = coverage_problem_households(
        actor=actor,
        problem=problem,
        area=area,
        unresolved_only=unresolved_only,
        catalogue=catalogue,
    )
    with _without_jit():
        page = Paginator(households, per_page).get_page(page_number)
        page.object_list = list(page.object_list)
    return page, problem_rows(page.object_list, catalogue)


@dataclass(frozen=True)
class ProblemRow:
    household: Household
    #: Labels of the household's risk types.
    risks: list[str]
    #: Labels of its risk types that no counting measure answers.
    missing: list[str]
    #: Names of its counting measures.
    measures: list[str]
    #: Whether it has a plan whose measures are all stopped.
    all_stopped: bool

    def detail(self, problem: str) -> str:
        """What the list says about the household, in words."""
        if problem == Problem.UNCOVERED:
            return _("缺少对应措施的风险：%(risks)s") % {"risks": "、".join(self.missing)}
        if problem == Problem.BACKSTOP_ONLY:
            return _("现有措施均为综合保障：%(measures)s") % {"measures": "、".join(self.measures)}
        if problem == Problem.UNSTABLE_WITHOUT_LABOUR:
            return _("家庭成员均无劳动能力，请核实风险类型或劳动技能")
        if self.all_stopped:
            return _("计划中的措施均已终止")
        return _("尚无帮扶计划")


def problem_rows(households: Iterable[Household], catalogue: Catalogue) -> list[ProblemRow]:
    """The details of a page of households: one query for their plan measures."""
    covers = catalogue.covers
    households = list(households)
    measures: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for household_id, group_id, name, status in (
        PlanMeasure.objects.filter(plan__household_id__in=[h.pk for h in households])
        .order_by("planned_end", "id")
        .values_list("plan__household_id", "measure__group_id", "measure__name", "status")
    ):
        measures[household_id].append((group_id, name, status))
    labels = dict(RiskType.choices)
    rows = []
    for household in households:
        own = measures.get(household.pk, [])
        counting = [(group, name) for group, name, status in own if status != MeasureStatus.STOPPED]
        groups = {group_id for group_id, _name in counting}
        missing = [
            str(labels.get(risk, risk))
            for risk in household.risk_types
            if risk in covers and not covers[risk] & groups
        ]
        rows.append(
            ProblemRow(
                household=household,
                risks=[str(labels.get(r, r)) for r in household.risk_types],
                missing=missing if counting else [],
                measures=list(dict.fromkeys(name for _group, name in counting)),
                all_stopped=bool(own) and not counting,
            )
        )
    return rows


# --- export --------------------------------------------------------------------------------

AREA_HEADERS = (
    gettext_lazy("区域"),
    gettext_lazy("区划代码"),
    gettext_lazy("监测户数"),
    gettext_lazy("有帮扶计划户数"),
    gettext_lazy("计划覆盖率（%）"),
    gettext_lazy("有已落实措施户数"),
    gettext_lazy("措施落实率（%）"),
    gettext_lazy("有劳动力户数"),
    gettext_lazy("其中有开发式措施户数"),
    gettext_lazy("开发式帮扶覆盖率（%）"),
    gettext_lazy("风险无对应措施户数"),
    gettext_lazy("有劳动力仅兜底户数"),
    gettext_lazy("因务工就业不稳但无劳动力户数"),
    gettext_lazy("未制定计划户数"),
)
PROBLEM_HEADERS = (
    gettext_lazy("乡镇（街道）"),
    gettext_lazy("村（社区）"),
    gettext_lazy("户编号"),
    gettext_lazy("户主姓名"),
    gettext_lazy("家庭人口"),
    gettext_lazy("监测状态"),
    gettext_lazy("监测对象类别"),
    gettext_lazy("致贫/返贫风险"),
    gettext_lazy("问题说明"),
)


def _area_values(row: CoverageRow) -> list[Any]:
    return [
        row.name,
        row.division.code if row.division is not None else "",
        row.monitored,
        row.with_plan,
        row.plan_share,
        row.delivered,
        row.delivered_share,
        row.labour_capable,
        row.with_development,
        row.development_share,
        row.uncovered,
        row.backstop_only,
        row.unstable_without_labour,
        row.without_plan,
    ]


def _problem_values(row: ProblemRow, problem: str) -> list[Any]:
    household = row.household
    village = household.village
    return [
        village.parent.name if village.parent else "",
        division_short_name(village.name),
        household.household_number,
        household.head_name,
        household.member_count,
        household.get_monitoring_status_display(),
        household.get_monitoring_category_display(),
        "、".join(row.risks),
        row.detail(problem),
    ]


def _chunks(households: QuerySet[Household]) -> Iterator[list[Household]]:
    """The households in lists of ``EXPORT_CHUNK``, read a chunk at a time."""
    chunk: list[Household] = []
    with _without_jit():
        for household in households.iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(household)
            if len(chunk) == EXPORT_CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def coverage_export(
    *,
    actor: User | None,
    path: Path | str,
    township: Division | None = None,
    unresolved_only: bool = False,
) -> dict[str, int]:
    """Write the per-area table and the four problem lists as sheets of one .xlsx file;
    the rows written per sheet. Audited like every export. The rows are read outside a
    transaction (on SQLite one would hold the write lock throughout); the audit row has its
    own, and the file is removed if anything fails."""
    if not can_view_coverage(actor):
        raise PermissionDenied(_("您的角色不能查看帮扶覆盖情况"))
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ApplicationError(_("导出文件应以 .xlsx 结尾"))
    report = coverage_report(actor=actor, township=township, unresolved_only=unresolved_only)
    catalogue = measure_catalogue()
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    counts: dict[str, int] = {}
    try:
        try:
            header = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
            bold = book.add_format({"bold": True})
            percent = book.add_format({"num_format": "0.0"})
            sheet = book.add_worksheet(_("分区统计"))
            sheet.set_column(0, 0, 16)
            sheet.set_column(1, 1, 14, book.add_format({"num_format": "@"}))
            sheet.set_column(2, len(AREA_HEADERS) - 1, 12)
            for index, title in enumerate(AREA_HEADERS):
                sheet.write_string(0, index, str(title), header)
            sheet.freeze_panes(1, 1)
            share_columns = {4, 6, 9}
            for offset, row in enumerate([*report.rows, report.total], start=1):
                is_total = row is report.total
                for index, value in enumerate(_area_values(row)):
                    fmt = bold if is_total and index == 0 else None
                    if value is None:
                        sheet.write_blank(offset, index, None)
                    elif isinstance(value, str):
                        sheet.write_string(offset, index, value, fmt)
                    else:
                        sheet.write_number(
                            offset, index, value, percent if index in share_columns else fmt
                        )
            note = _("统计范围：%(scope)s；导出时间：%(time)s") % {
                "scope": _("风险未消除的监测户")
                if unresolved_only
                else _("风险未消除和风险已消除的监测户"),
                "time": timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M"),
            }
            sheet.write_string(len(report.rows) + 3, 0, note)
            counts["areas"] = len(report.rows)
            for problem in Problem.ALL:
                sheet = book.add_worksheet(str(Problem.LABELS[problem]))
                widths = (14, 16, 14, 10, 8, 10, 12, 24, 40)
                for index, (title, width) in enumerate(zip(PROBLEM_HEADERS, widths, strict=True)):
                    sheet.set_column(index, index, width)
                    sheet.write_string(0, index, str(title), header)
                sheet.freeze_panes(1, 0)
                households = coverage_problem_households(
                    actor=actor,
                    problem=problem,
                    area=township,
                    unresolved_only=unresolved_only,
                    catalogue=catalogue,
                )
                written = 0
                for chunk in _chunks(households):
                    for row in problem_rows(chunk, catalogue):
                        written += 1
                        for index, value in enumerate(_problem_values(row, problem)):
                            if isinstance(value, int):
                                sheet.write_number(written, index, value)
                            else:
                                sheet.write_string(written, index, str(value))
                counts[problem] = written
        finally:
            book.close()
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditAction.EXPORT,
                target_type="assistance.coverage",
                target_repr=path.name,
                extra={
                    "file": path.name,
                    "format": "xlsx",
                    "township": township.code if township is not None else "",
                    "unresolved_only": unresolved_only,
                    "rows": counts,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return counts
