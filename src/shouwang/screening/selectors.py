"""Reads of the screening app, limited to what the actor may see."""

from __future__ import annotations

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from shouwang.core.choices import LEVEL_PREFIX_LENGTH, DivisionLevel, Role
from shouwang.core.jurisdiction import area_q
from shouwang.core.models import AuditEvent, User
from shouwang.screening.choices import Severity
from shouwang.screening.models import Alert, Rule, RuleVersion, ScreeningRun
from shouwang.screening.permissions import TRIAGERS


def alert_queryset(*, actor: User | None) -> QuerySet[Alert]:
    """Alerts in the actor's area; department officers see those of their department's feeds."""
    alerts = Alert.objects.filter(area_q(actor, "division__code"))
    if actor is not None and not actor.is_superuser and actor.role == Role.DEPARTMENT_OFFICER:
        slugs = list(
            Rule.objects.filter(spec__feed__in=_department_sources(actor)).values_list(
                "slug", flat=True
            )
        )
        alerts = alerts.filter(rule__slug__in=slugs)
    return alerts


def _department_sources(actor: User) -> list[str]:
    from shouwang.screening.models import FeedSource

    return list(
        FeedSource.objects.filter(department=actor.department).values_list("slug", flat=True)
    )


#: Severity as a sort key: a run writes its alerts rule by rule, so newest-first alone would
#: fill the first page with one rule's (often low-severity) alerts.
SEVERITY_RANK = Case(
    *(When(severity=value, then=Value(rank)) for rank, value in enumerate(Severity.values)),
    default=Value(len(Severity.values)),
    output_field=IntegerField(),
)


def alert_list(*, actor: User | None) -> QuerySet[Alert]:
    """Latest period first, then by severity (high first), then newest."""
    return (
        alert_queryset(actor=actor)
        .select_related("rule", "household", "division", "division__parent", "assigned_to")
        .order_by("-period", SEVERITY_RANK, "-created_at", "-id")
    )


def alert_items(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """One row per triage item among ``alerts`` (already filtered): the item's oldest alert.

    The other alerts of an item are shown inside its row (``alert_siblings``), so a hospital
    stay two rules found is listed and counted once.
    """
    earlier_in_item = alerts.filter(triage_group=OuterRef("triage_group"), pk__lt=OuterRef("pk"))
    return alerts.exclude(Exists(earlier_in_item))


def alert_siblings(*, actor: User | None, alerts: list[Alert]) -> dict[int, list[Alert]]:
    """For each alert, the other alerts of its triage item the actor may see, oldest first."""
    if not alerts:
        return {}
    groups = {a.triage_group for a in alerts if a.triage_group}
    others = (
        alert_queryset(actor=actor)
        .filter(triage_group__in=groups)
        .select_related("rule")
        .order_by("pk")
    )
    by_group: dict[str, list[Alert]] = {}
    for other in others:
        by_group.setdefault(other.triage_group, []).append(other)
    return {a.pk: [o for o in by_group.get(a.triage_group, []) if o.pk != a.pk] for a in alerts}


def alert_get(*, actor: User | None, pk: int) -> Alert:
    return alert_list(actor=actor).select_related("member", "run", "decided_by").get(pk=pk)


def alert_history(*, alert: Alert, limit: int = 100) -> tuple[list[AuditEvent], dict[int, str]]:
    """The alert's audit events, newest first, and the names of users it was assigned to."""
    events = list(
        AuditEvent.objects.filter(target_type=Alert._meta.label_lower, target_id=str(alert.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    ids = {(e.after or {}).get("assigned_to_id") for e in events} - {None}
    users = (
        User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username") if ids else []
    )
    return events, {pk: name or username for pk, name, username in users}


def alert_counts_by_village(*, actor: User | None, limit: int = 20) -> list[dict]:
    """Unresolved alerts per division (villages, or counties for people placed by their ID)."""
    return list(
        alert_queryset(actor=actor)
        .filter(status__in=["open", "assigned"])
        .values("division__code", "division__name", "division__parent__name")
        .annotate(total=Count("id"), high=Count("id", filter=Q(severity="high")))
        .order_by("-total", "division__code")[:limit]
    )


def alert_counts_by_rule(*, actor: User | None) -> list[dict]:
    return list(
        alert_queryset(actor=actor)
        .filter(status__in=["open", "assigned"])
        .values("rule__slug", "rule__name", "risk_type")
        .annotate(total=Count("id"), unregistered=Count("id", filter=Q(unregistered=True)))
        .order_by("-total", "rule__slug")
    )


#: Village cadres first: they make the home visits an assignment asks for.
ASSIGNEE_ORDER = Case(
    When(role=Role.VILLAGE_CADRE, then=Value(0)),
    When(role=Role.TOWNSHIP_STAFF, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _covering_codes(code: str) -> list[str]:
    """The division itself and every division above it (their areas contain it)."""
    return sorted({code[:n].ljust(12, "0") for n in LEVEL_PREFIX_LENGTH.values()})


def alert_assignees(*, actor: User | None, alert: Alert) -> QuerySet[User]:
    """Who the actor may hand the alert to: active users who may triage it (their area holds
    the alert's division) and who are themselves in the actor's area. The page, the API and
    the service all ask this one question. An alert not yet placed in a village cannot be
    handed to anyone for a home visit: it becomes a lead for the township to place."""
    if alert.division.level != DivisionLevel.VILLAGE:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            is_superuser=False,
            role__in=TRIAGERS,
            divisions__code__in=_covering_codes(alert.division_id),
        )
        .filter(area_q(actor, "divisions__code"))
        .distinct()
        .prefetch_related("divisions")
        .order_by(ASSIGNEE_ORDER, "display_name", "username")
    )


def rule_list() -> QuerySet[Rule]:
    return Rule.objects.annotate(
        open_alerts=Count("alerts", filter=Q(alerts__status__in=["open", "assigned"]))
    ).order_by("slug")


def rule_get(*, pk: int | None = None, slug: str | None = None) -> Rule:
    rules = Rule.objects.all()
    return rules.get(pk=pk) if pk is not None else rules.get(slug=slug)


def rule_versions(*, rule: Rule) -> QuerySet[RuleVersion]:
    return rule.versions.select_related("actor").order_by("-version")


def run_list() -> QuerySet[ScreeningRun]:
    return ScreeningRun.objects.select_related("actor").order_by("-created_at", "-id")


def run_get(*, pk: int) -> ScreeningRun:
    return run_list().get(pk=pk)
