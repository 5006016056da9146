"""Writes of the screening app: rules (versioned), runs, the alerts they raise, triage."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record, household_subject, model_snapshot, stored_actor
from shouwang.core.choices import AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import division_in_area
from shouwang.core.models import Division, User
from shouwang.policy.selectors import MissingPolicyValue
from shouwang.registry.choices import MonitoringStatus
from shouwang.screening import selectors
from shouwang.screening.choices import AlertStatus, BatchStatus, Engine, RunStatus, RunTrigger
from shouwang.screening.compiler import period_window, unpack_evidence
from shouwang.screening.engines.base import (
    EngineUnavailable,
    ScreeningInputs,
    get_engine,
)
from shouwang.screening.feeds.selectors import staged_feed_inputs
from shouwang.screening.models import Alert, FeedBatch, Rule, RuleVersion, ScreeningRun
from shouwang.screening.permissions import RULE_EDITORS, RUNNERS, TRIAGERS
from shouwang.screening.rules import CompiledRule, compile_spec, rule_spec_parse, source_columns
from shouwang.screening.snapshot import RegistrySnapshot, registry_snapshot
from shouwang.screening.spec import SpecInvalid
from shouwang.screening.triage import (
    GroupCandidate,
    evidence_rows,
    triage_groups,
    triage_subject,
)

logger = logging.getLogger(__name__)

#: Evidence rows kept on an alert; the count says how many there were.
EVIDENCE_ROWS_KEPT = 200
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ASSIGNED)
_PERIOD_HELP = "YYYY-MM"


def _require_role(actor: User | None, roles: frozenset[str], message: str) -> None:
    if actor is None or actor.is_superuser:
        return
    if actor.role not in roles:
        raise PermissionDenied(message)


def period_validate(period: str) -> str:
    try:
        parsed = dt.datetime.strptime(period.strip(), "%Y-%m")
    except (ValueError, AttributeError):
        raise ApplicationError(
            _("期别“%(period)s”格式不对，应为 年-月，例如 2026-10") % {"period": period}
        ) from None
    if parsed.year < 2015 or parsed.date() > timezone.localdate():
        raise ApplicationError(_("期别“%(period)s”不在合理范围内") % {"period": period})
    return f"{parsed.year:04d}-{parsed.month:02d}"


def default_period() -> str:
    """The latest period with staged data; the last full month when nothing is staged."""
    latest = FeedBatch.objects.filter(status=BatchStatus.STAGED).aggregate(p=Max("period"))["p"]
    if latest:
        return latest
    first = timezone.localdate().replace(day=1)
    previous = first - dt.timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


# --- rules -------------------------------------------------------------------------------


def _spec_or_error(raw: Any) -> Any:
    try:
        return rule_spec_parse(raw)
    except SpecInvalid as exc:
        raise ApplicationError(
            _("规则定义有误：%(errors)s") % {"errors": "；".join(exc.errors)},
            extra={"errors": exc.errors},
        ) from None


#: Path words of the rule pages and API (rules/new/, rules/preview/) a rule's code would hide.
RESERVED_RULE_SLUGS = frozenset({"new", "preview"})
_RULE_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


def _rule_slug_check(slug: str) -> None:
    if (
        not slug
        or len(slug) > Rule._meta.get_field("slug").max_length
        or not _RULE_SLUG.match(slug)
    ):
        raise ApplicationError(
            _("规则代码只能由小写字母、数字、连字符和下划线组成，最长 %(n)d 个字符")
            % {"n": Rule._meta.get_field("slug").max_length}
        )
    if slug in RESERVED_RULE_SLUGS:
        raise ApplicationError(_("规则代码“%(slug)s”为系统保留，请换一个") % {"slug": slug})


@transaction.atomic
def rule_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    description: str = "",
    spec: Any,
    active: bool = True,
) -> Rule:
    _require_role(actor, RULE_EDITORS, _("只有区县管理员可以维护预警规则"))
    _rule_slug_check(slug)
    parsed = _spec_or_error(spec)
    if Rule.objects.filter(slug=slug).exists():
        raise ApplicationError(_("规则代码“%(slug)s”已存在") % {"slug": slug})
    rule = Rule(
        slug=slug,
        name=name.strip(),
        description=description.strip(),
        spec=parsed.as_dict(),
        version=1,
        active=active,
        risk_type=parsed.risk_type,
        severity=parsed.severity,
    )
    rule.full_clean()
    rule.save()
    RuleVersion.objects.create(
        rule=rule,
        version=1,
        name=rule.name,
        description=rule.description,
        spec=rule.spec,
        active=active,
        actor=stored_actor(actor),
        note=_("新建"),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=rule, after=model_snapshot(rule))
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User | None,
    rule: Rule,
    name: str | None = None,
    description: str | None = None,
    spec: Any = None,
    active: bool | None = None,
    note: str = "",
) -> Rule:
    """Save a new version of ``rule``; unchanged saves make no version."""
    _require_role(actor, RULE_EDITORS, _("只有区县管理员可以维护预警规则"))
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    before = model_snapshot(rule)
    if spec is not None:
        parsed = _spec_or_error(spec)
        rule.spec = parsed.as_dict()
        rule.risk_type = parsed.risk_type
        rule.severity = parsed.severity
    if name is not None:
        rule.name = name.strip()
    if description is not None:
        rule.description = description.strip()
    if active is not None:
        rule.active = active
    after = model_snapshot(rule)
    if after == before:
        return rule
    rule.version += 1
    rule.full_clean()
    rule.save()
    RuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        name=rule.name,
        description=rule.description,
        spec=rule.spec,
        active=rule.active,
        actor=stored_actor(actor),
        note=note.strip()[:500],
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=rule,
        before=before,
        after=model_snapshot(rule),
        extra={"version": rule.version, "note": note},
    )
    return rule


# --- inputs ------------------------------------------------------------------------------


def _compile_active(
    rules: Iterable[Rule], period: str, sources
) -> tuple[list[CompiledRule], dict[str, str]]:
    compiled: list[CompiledRule] = []
    problems: dict[str, str] = {}
    for rule in rules:
        try:
            spec = rule_spec_parse(rule.spec, sources=sources)
            compiled.append(compile_spec(spec=spec, period=period, sources=sources, rule=rule))
        except SpecInvalid as exc:
            problems[rule.slug] = "；".join(exc.errors)
        except MissingPolicyValue as exc:
            problems[rule.slug] = exc.message
    return compiled, problems


# --- alerts ------------------------------------------------------------------------------


@dataclass
class Placement:
    division_code: str
    placed_by: str


@dataclass
class AlertWriteResult:
    matches: int = 0
    new: int = 0
    existing: int = 0
    updated: int = 0
    #: Unresolved alerts whose triage item changed (joined or left a group).
    regrouped: int = 0
    per_rule: dict[str, dict[str, int]] = field(default_factory=dict)


class _Placer:
    """Where an unregistered person's alert belongs: the feed's village, else the ID's county."""

    def __init__(self) -> None:
        home = settings.SHOUWANG_HOME_DIVISION
        self.home = home
        prefix = home.rstrip("0") or home
        self.villages = set(
            Division.objects.filter(
                level=DivisionLevel.VILLAGE, code__startswith=prefix[:6]
            ).values_list("code", flat=True)
        )
        self.counties = set(
            Division.objects.filter(level=DivisionLevel.COUNTY).values_list("code", flat=True)
        )

    def place(self, feed_village: str | None, id_region: str | None) -> Placement:
        if feed_village and feed_village in self.villages:
            return Placement(feed_village, "feed")
        county = f"{id_region}000000" if id_region else ""
        if county in self.counties and county.startswith(self.home[:6]):
            return Placement(county, "id_number")
        return Placement(self.home, "id_number")


def _fingerprint(slug: str, subject: str, evidence: list[int], value: Any) -> str:
    digest = hashlib.sha256()
    digest.update(f"{slug}|{subject}|{value}|".encode())
    digest.update(",".join(map(str, sorted(evidence))).encode())
    return digest.hexdigest()


def _population_label(household_status: str | None, household_type: str | None) -> str:
    if household_status is None:
        return "unregistered"
    if household_status == MonitoringStatus.RISK_UNRESOLVED:
        return "monitored"
    if household_status == MonitoringStatus.RISK_ELIMINATED:
        return "risk_eliminated"
    return "poverty_exited" if household_type == "poverty_exited" else "ordinary"


#: Field types whose Python values the database drivers take as they are.
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _alerts_insert(rows: list[dict[str, Any]]) -> None:
    """Insert new alerts, given as attname → value, with one prepared INSERT (SQLite) or COPY
    (PostgreSQL).

    Neither ``bulk_create`` nor model instances: building 15,000 ``Alert`` objects and adapting
    every field of each through Django costs more than the database's own work. Foreign keys,
    text, numbers and decimals go to the drivers as they are, JSON as its text; fields a row
    does not give take their default, adapted once, and one timestamp serves the whole write,
    as for one transaction.
    """
    if not rows:
        return
    import json
    from functools import partial

    fields = [f for f in Alert._meta.concrete_fields if not f.primary_key]
    given = rows[0].keys()
    now = timezone.now()
    template: list[Any] = []
    converters: list[tuple[int, str, Any]] = []
    for position, f in enumerate(fields):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            template.append(f.get_db_prep_save(now, connection))
        elif f.attname not in given:
            template.append(f.get_db_prep_save(f.get_default(), connection))
        else:
            template.append(None)
            converter: Any = None
            if isinstance(f, models.JSONField):
                converter = partial(json.dumps, cls=f.encoder)  # the text Django would write
            elif not isinstance(f, _PLAIN_FIELDS + (models.ForeignKey, models.DecimalField)):
                converter = partial(f.get_db_prep_save, connection=connection)
            converters.append((position, f.attname, converter))
    values = []
    for row in rows:
        line = template.copy()
        for position, name, converter in converters:
            line[position] = row[name] if converter is None else converter(row[name])
        values.append(line)
    quote = connection.ops.quote_name
    table = quote(Alert._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)


def alerts_write(
    *,
    run: ScreeningRun,
    compiled: list[CompiledRule],
    results: dict[str, Any],
    snapshot: RegistrySnapshot,
) -> AlertWriteResult:
    """Turn engine results into alerts; same rule + subject + evidence is never raised twice.

    An unresolved alert of the same rule and subject whose evidence grew is brought up to
    date instead of raising a second one; a dismissed alert only comes back with new evidence.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    # Only the households results name: the snapshot's whole table is ten times as many.
    named = [chunk for item in compiled for chunk in results[item.slug]["household_id"].chunks]
    households: dict[int, tuple[str, str, str]] = {}
    if named:
        ids = pc.unique(pa.chunked_array(named, type=pa.int64()))
        table = snapshot.households.filter(
            pc.is_in(snapshot.households["household_id"], value_set=ids.drop_null())
        )
        households = {
            hid: (village, status, kind)
            for hid, village, status, kind in zip(
                table["household_id"].to_pylist(),
                table["village_code"].to_pylist(),
                table["monitoring_status"].to_pylist(),
                table["household_type"].to_pylist(),
                strict=True,
            )
        }
    placer = _Placer()
    outcome = AlertWriteResult()
    for item in compiled:
        table = results[item.slug]
        counts = {"matches": table.num_rows, "new": 0, "existing": 0, "updated": 0}
        outcome.per_rule[item.slug] = counts
        outcome.matches += table.num_rows
        if not table.num_rows:
            continue
        rule = item.rule
        assert rule is not None
        known = set(Alert.objects.filter(rule=rule).values_list("subject_key", "fingerprint"))
        unresolved = {
            subject: pk
            for pk, subject in Alert.objects.filter(rule=rule, status__in=UNRESOLVED).values_list(
                "id", "subject_key"
            )
        }
        window = period_window(run.period, item.spec.window_months)
        # What every alert of the rule shares, built once.
        common = {
            "rule_id": rule.pk,
            "rule_version": item.version,
            "run_id": run.pk,
            "risk_type": item.spec.risk_type,
            "severity": item.spec.severity,
            "period": run.period,
            "comparison": item.spec.comparison,
        }
        window_bounds = [window.start.isoformat(), window.end.isoformat()]
        aggregate = {"function": item.spec.function, "field": item.spec.measure}
        threshold_registered = item.spec.threshold.as_dict()
        threshold_unregistered = (item.spec.threshold_unregistered or item.spec.threshold).as_dict()
        creates: list[dict[str, Any]] = []
        updates: list[Alert] = []
        for row in table.to_pylist():
            subject = row["subject_key"]
            evidence_ids = sorted(row["evidence"] or [])
            value = row["value"]
            fingerprint = _fingerprint(item.slug, subject, evidence_ids, value)
            if (subject, fingerprint) in known:
                counts["existing"] += 1
                continue
            household_id = row["household_id"]
            info = households.get(household_id) if household_id is not None else None
            if info is not None:
                division_code, placed_by = info[0], "registry"
                status, kind = info[1], info[2]
            else:
                placement = placer.place(row["feed_village"], row["id_region"])
                division_code, placed_by = placement.division_code, placement.placed_by
                status = kind = None
                household_id = None
            evidence = {
                # (batch, row) tuples: JSON writes them as the same arrays lists would be.
                "rows": list(map(unpack_evidence, evidence_ids[:EVIDENCE_ROWS_KEPT])),
                "row_count": int(row["row_count"] or 0),
                "window": list(window_bounds),
                "threshold_rule": dict(
                    threshold_unregistered if household_id is None else threshold_registered
                ),
                "population": _population_label(status, kind),
                "aggregate": dict(aggregate),
                "feed": item.spec.feed,
            }
            fields = dict(
                common,
                fingerprint=fingerprint,
                triage_group=fingerprint,
                household_id=household_id,
                member_id=row["member_id"] if household_id is not None else None,
                person_index=row["person_index"] or "",
                person_name=(row["name"] or "")[:50],
                division_id=division_code,
                placed_by=placed_by,
                unregistered=household_id is None,
                after_elimination=status == MonitoringStatus.RISK_ELIMINATED,
                value=value,
                threshold=row["threshold"],
                evidence=evidence,
            )
            existing_pk = unresolved.get(subject)
            if existing_pk is not None:
                updates.append(Alert(pk=existing_pk, subject_key=subject, **fields))
                counts["updated"] += 1
            else:
                fields["subject_key"] = subject
                creates.append(fields)
                counts["new"] += 1
            known.add((subject, fingerprint))
        _alerts_insert(creates)
        if updates:
            Alert.objects.bulk_update(
                updates,
                [
                    "rule_version",
                    "run",
                    "fingerprint",
                    "value",
                    "threshold",
                    "evidence",
                    "period",
                    "person_name",
                    "after_elimination",
                    "severity",
                    "risk_type",
                    "comparison",
                ],
                batch_size=500,
            )
        outcome.new += counts["new"]
        outcome.existing += counts["existing"]
        outcome.updated += counts["updated"]
    outcome.regrouped = alerts_regroup()
    return outcome


def alerts_regroup() -> int:
    """Bring the triage groups of unresolved alerts up to date; returns how many changed.

    Only a household (or unregistered person) with two or more unresolved alerts can have
    an item of several, so only their evidence is read; every other unresolved alert is its
    own item (key = its fingerprint).
    """
    unresolved = Alert.objects.filter(status__in=UNRESOLVED)
    several = alerts_sharing_a_subject(unresolved)
    changed = (
        unresolved.exclude(pk__in=several.values("pk"))
        .exclude(triage_group=F("fingerprint"))
        .update(triage_group=F("fingerprint"))
    )
    candidates, current = [], {}
    for pk, household_id, person_index, fingerprint, group, evidence in several.values_list(
        "pk", "household_id", "person_index", "fingerprint", "triage_group", "evidence"
    ).iterator(chunk_size=2000):
        subject = triage_subject(household_id, person_index)
        candidates.append(GroupCandidate(pk, subject, fingerprint, evidence_rows(evidence)))
        current[pk] = group
    updates = [
        Alert(pk=pk, triage_group=key)
        for pk, key in triage_groups(candidates).items()
        if key != current[pk]
    ]
    Alert.objects.bulk_update(updates, ["triage_group"], batch_size=1000)
    return changed + len(updates)


def alerts_sharing_a_subject(alerts: models.QuerySet[Alert]) -> models.QuerySet[Alert]:
    """Those of ``alerts`` whose household (or unregistered person) has another among them."""
    households = (
        alerts.filter(household__isnull=False)
        .values("household_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("household_id")
    )
    people = (
        alerts.filter(household__isnull=True)
        .values("person_index")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("person_index")
    )
    return alerts.filter(
        models.Q(household_id__in=households)
        | models.Q(household__isnull=True, person_index__in=people)
    )


# --- runs --------------------------------------------------------------------------------


@transaction.atomic
def screening_run_create(
    *,
    actor: User | None,
    engine: str = Engine.DUCKDB,
    period: str | None = None,
    rule_slugs: list[str] | None = None,
    trigger: str = RunTrigger.COMMAND,
) -> ScreeningRun:
    """Record a run request; ``screening_run_execute`` (now or in the worker) does the work."""
    _require_role(actor, RUNNERS, _("只有区县工作人员可以发起数据比对"))
    if engine not in Engine.values:
        raise ApplicationError(_("未知的计算引擎“%(name)s”") % {"name": engine})
    period = period_validate(period) if period else default_period()
    rules = Rule.objects.filter(active=True)
    if rule_slugs:
        found = {r.slug: r for r in Rule.objects.filter(slug__in=rule_slugs)}
        missing = sorted(set(rule_slugs) - set(found))
        if missing:
            raise ApplicationError(_("规则不存在：%(slugs)s") % {"slugs": "、".join(missing)})
        rules = Rule.objects.filter(slug__in=rule_slugs)
    if not rules.exists():
        raise ApplicationError(_("没有启用的规则可以运行"))
    run = ScreeningRun.objects.create(
        engine=engine,
        period=period,
        trigger=trigger,
        actor=stored_actor(actor),
        rules={r.slug: r.version for r in rules.order_by("slug")},
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=run, after=model_snapshot(run))
    return run


def screening_run_execute(*, run: ScreeningRun) -> ScreeningRun:
    """Snapshot, compile, run on the engine, write alerts; records counts and timings."""
    ScreeningRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    run.refresh_from_db()
    started = time.perf_counter()
    timings: dict[str, int] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = int((now - since) * 1000)
        return now

    try:
        mark = time.perf_counter()
        sources = source_columns()
        rules = list(Rule.objects.filter(slug__in=list(run.rules)).order_by("slug"))
        compiled, problems = _compile_active(rules, run.period, sources)
        if not compiled:
            raise ApplicationError(
                _("没有可以运行的规则：%(problems)s")
                % {"problems": "；".join(f"{k}：{v}" for k, v in problems.items())}
            )
        feeds, batch_ids, feed_rows = staged_feed_inputs(sources)
        mark = lap("compile", mark)
        snapshot = registry_snapshot()
        mark = lap("snapshot", mark)
        engine = get_engine(run.engine)
        with tempfile.TemporaryDirectory(prefix="run-", dir=_work_root()) as work:
            inputs = ScreeningInputs(
                persons=snapshot.persons,
                households=snapshot.households,
                feeds=feeds,
                work_dir=Path(work),
            )
            results = engine.run(inputs, {c.slug: c.query for c in compiled})
        mark = lap("engine", mark)
        with transaction.atomic():
            outcome = alerts_write(run=run, compiled=compiled, results=results, snapshot=snapshot)
            mark = lap("alerts", mark)
            run.status = RunStatus.SUCCEEDED
            run.rules = {c.slug: c.version for c in compiled}
            run.batches = batch_ids
            run.persons = snapshot.persons.num_rows
            run.households = snapshot.households.num_rows
            run.feed_rows = feed_rows
            run.matches = outcome.matches
            run.alerts_new = outcome.new
            run.alerts_existing = outcome.existing + outcome.updated
            run.counts = {
                **outcome.per_rule,
                **{slug: {"error": message} for slug, message in problems.items()},
            }
            run.message = (
                _("部分规则未运行：%(problems)s")
                % {"problems": "；".join(f"{k}：{v}" for k, v in problems.items())}
                if problems
                else ""
            )
            run.timings = timings
            run.finished_at = timezone.now()
            run.duration_ms = int((time.perf_counter() - started) * 1000)
            run.save()
            audit_record(
                actor=run.actor,
                action=AuditAction.UPDATE,
                target=run,
                after={"status": run.status, "alerts_new": run.alerts_new, "matches": run.matches},
                extra={"timings": timings},
            )
    except (ApplicationError, EngineUnavailable, MissingPolicyValue) as exc:
        _run_failed(run, getattr(exc, "message", None) or str(exc), started)
        raise
    except Exception as exc:
        logger.exception("screening run %s failed", run.pk)
        _run_failed(run, _("比对运行出错：%(error)s") % {"error": exc}, started)
        raise
    return run


def _work_root() -> Path:
    root = Path(settings.SHOUWANG_SCREENING_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _run_failed(run: ScreeningRun, message: str, started: float) -> None:
    ScreeningRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        message=message[:2000],
        finished_at=timezone.now(),
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    run.refresh_from_db()


def screening_run(
    *,
    actor: User | None,
    engine: str = Engine.DUCKDB,
    period: str | None = None,
    rule_slugs: list[str] | None = None,
    trigger: str = RunTrigger.COMMAND,
) -> ScreeningRun:
    """Create and execute a run in this process (commands, tests, the worker)."""
    run = screening_run_create(
        actor=actor, engine=engine, period=period, rule_slugs=rule_slugs, trigger=trigger
    )
    return screening_run_execute(run=run)


def screening_runs_fail_interrupted() -> int:
    """Runs left running by a stopped worker are marked failed so nobody waits on them."""
    return ScreeningRun.objects.filter(status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        message=_("运行被服务停止中断，请重新发起"),
        finished_at=timezone.now(),
    )


# --- preview -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RulePreview:
    period: str
    matches: int
    registered: int
    unregistered: int
    already_alerted: int
    thresholds: tuple[Decimal, Decimal]
    sample: list[dict[str, Any]]


def rule_preview(
    *,
    actor: User | None,
    spec: Any,
    period: str | None = None,
    rule: Rule | None = None,
    engine: str = Engine.DUCKDB,
) -> RulePreview:
    """How many alerts ``spec`` would raise now, without writing anything."""
    _require_role(actor, RULE_EDITORS, _("只有区县管理员可以维护预警规则"))
    sources = source_columns()
    try:
        parsed = rule_spec_parse(spec, sources=sources)
    except SpecInvalid as exc:
        raise ApplicationError(
            _("规则定义有误：%(errors)s") % {"errors": "；".join(exc.errors)},
            extra={"errors": exc.errors},
        ) from None
    period = period_validate(period) if period else default_period()
    try:
        compiled = compile_spec(
            spec=parsed, period=period, sources=sources, slug=rule.slug if rule else "preview"
        )
    except MissingPolicyValue as exc:
        raise ApplicationError(exc.message) from None
    feeds, _batches, _rows = staged_feed_inputs(sources)
    snapshot = registry_snapshot()
    with tempfile.TemporaryDirectory(prefix="preview-", dir=_work_root()) as work:
        inputs = ScreeningInputs(
            persons=snapshot.persons,
            households=snapshot.households,
            feeds=feeds,
            work_dir=Path(work),
        )
        table = get_engine(engine).run(inputs, {"preview": compiled.query})["preview"]
    rows = table.to_pylist()
    already = 0
    if rule is not None and rows:
        subjects = {r["subject_key"] for r in rows}
        already = (
            Alert.objects.filter(rule=rule, subject_key__in=subjects, status__in=UNRESOLVED)
            .values("subject_key")
            .distinct()
            .count()
        )
    unregistered = sum(1 for r in rows if r["household_id"] is None)
    return RulePreview(
        period=period,
        matches=len(rows),
        registered=len(rows) - unregistered,
        unregistered=unregistered,
        already_alerted=already,
        thresholds=(compiled.thresholds.registered, compiled.thresholds.unregistered),
        sample=[
            {"subject_key": r["subject_key"], "value": r["value"], "threshold": r["threshold"]}
            for r in rows[:10]
        ],
    )


# --- triage ------------------------------------------------------------------------------

DISMISS_REASON_MIN = 4


def _require_triage(actor: User | None, alert: Alert) -> None:
    _require_role(actor, TRIAGERS, _("您的角色不能处理预警"))
    if not division_in_area(actor, alert.division_id):
        raise PermissionDenied(_("该预警不在您的管辖范围内"))


def _lock_item(alert: Alert, verb_refused: str) -> list[Alert]:
    """Lock the alert and the other unresolved alerts of its triage item, the alert first.

    Refuses when the alert itself was decided meanwhile (another tab, another user).
    """
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status not in UNRESOLVED:
        raise ApplicationError(
            _("该预警已处理（%(status)s），不能再%(verb)s")
            % {"status": alert.get_status_display(), "verb": verb_refused}
        )
    # A group key is the fingerprint of one alert, so it names one item wherever it appears.
    siblings = list(
        Alert.objects.select_for_update()
        .filter(triage_group=alert.triage_group, status__in=UNRESOLVED)
        .exclude(pk=alert.pk)
        .order_by("pk")
    )
    return [alert, *siblings]


def _decide_item(
    *, actor: User | None, alerts: list[Alert], verb: str, change: dict[str, Any]
) -> Alert:
    """Apply one triage decision to every alert of the item, each with its own audit row."""
    group = [a.pk for a in alerts]
    for alert in alerts:
        before = model_snapshot(alert)
        for name, value in change.items():
            setattr(alert, name, value)
        alert.decided_by = stored_actor(actor)
        alert.decided_at = timezone.now()
        alert.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=alert,
            before=before,
            after=model_snapshot(alert),
            subject=_alert_subject(alert),
            extra={"verb": verb, **({"item": group} if len(group) > 1 else {})},
        )
    return alerts[0]


@transaction.atomic
def alert_dismiss(*, actor: User | None, alert: Alert, reason: str) -> Alert:
    """Dismiss the alert and the rest of its triage item."""
    _require_triage(actor, alert)
    alerts = _lock_item(alert, _("排除"))
    reason = (reason or "").strip()
    if len(reason) < DISMISS_REASON_MIN:
        raise ApplicationError(_("请填写排除理由（至少 %(n)d 个字）") % {"n": DISMISS_REASON_MIN})
    change = {"status": AlertStatus.DISMISSED, "resolution_note": reason[:2000]}
    return _decide_item(actor=actor, alerts=alerts, verb="dismiss", change=change)


@transaction.atomic
def alert_assign(*, actor: User | None, alert: Alert, assignee: User, note: str = "") -> Alert:
    """Send the alert (and the rest of its triage item) to a user who may take it."""
    _require_triage(actor, alert)
    alerts = _lock_item(alert, _("交办"))
    if not selectors.alert_assignees(actor=actor, alert=alerts[0]).filter(pk=assignee.pk).exists():
        # Says nothing about the chosen user: they may be outside the actor's area.
        raise ApplicationError(_("只能指派给您管辖范围内可处理该预警的用户"))
    change: dict[str, Any] = {"status": AlertStatus.ASSIGNED, "assigned_to": assignee}
    if note.strip():
        change["resolution_note"] = note.strip()[:2000]
    return _decide_item(actor=actor, alerts=alerts, verb="assign", change=change)


@transaction.atomic
def alert_open_lead(*, actor: User | None, alert: Alert, note: str = "") -> Alert:
    """Mark the alert (and the rest of its triage item) as a lead for identification."""
    _require_triage(actor, alert)
    alerts = _lock_item(alert, _("转为线索"))
    change: dict[str, Any] = {"status": AlertStatus.LEAD_OPENED}
    if note.strip():
        change["resolution_note"] = note.strip()[:2000]
    return _decide_item(actor=actor, alerts=alerts, verb="open_lead", change=change)


def _alert_subject(alert: Alert) -> str:
    """Alerts on a household show in the household's history."""
    return household_subject(alert.household_id, alert)
