"""Reads of assistance, limited to the actor's area (and, for department officers, to the
measures their department delivers)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet

from shouwang.assistance import permissions as perms
from shouwang.assistance.choices import OPEN_MEASURE_STATUSES, MeasureStatus
from shouwang.assistance.models import (
    Measure,
    MeasureGroup,
    Plan,
    PlanMeasure,
    RecommendationRule,
)
from shouwang.assistance.recommend import Proposal, propose
from shouwang.core.jurisdiction import area_q
from shouwang.core.models import AuditEvent, User
from shouwang.registry.models import Household, Member


def measure_groups() -> QuerySet[MeasureGroup]:
    """The catalogue: groups with their measures (active first)."""
    return MeasureGroup.objects.prefetch_related(
        Prefetch("measures", queryset=Measure.objects.order_by("-active", "name"))
    )


def active_measures() -> QuerySet[Measure]:
    return Measure.objects.filter(active=True).select_related("group")


def measure_list() -> QuerySet[Measure]:
    """Every catalogue measure, inactive ones included (administrators switch them back)."""
    return Measure.objects.select_related("group")


def rule_list() -> QuerySet[RecommendationRule]:
    return RecommendationRule.objects.select_related("measure", "measure__group")


def plan_measure_queryset(*, actor: User | None) -> QuerySet[PlanMeasure]:
    """Plan measures the actor may see: planners in their area, department officers their
    department's measures in theirs."""
    if not perms.can_deliver(actor):
        return PlanMeasure.objects.none()
    qs = PlanMeasure.objects.filter(area_q(actor, "plan__household__village__code"))
    if perms.is_department_officer(actor):
        qs = qs.filter(department=actor.department) if actor.department else qs.none()
    return qs


def plan_measure_list(*, actor: User | None) -> QuerySet[PlanMeasure]:
    """For list pages and the API: nearest planned completion first, with what a row shows."""
    return (
        plan_measure_queryset(actor=actor)
        .select_related(
            "measure",
            "measure__group",
            "member",
            "plan__household",
            "plan__household__village",
            "plan__household__village__parent",
            "updated_by",
        )
        .order_by("planned_end", "id")
    )


def plan_measure_get(*, actor: User | None, pk: int) -> PlanMeasure:
    return plan_measure_list(actor=actor).get(pk=pk)


def overdue_measures(*, actor: User | None, today: dt.date) -> QuerySet[PlanMeasure]:
    """Measures still owed whose planned completion has passed."""
    return plan_measure_list(actor=actor).filter(
        status__in=OPEN_MEASURE_STATUSES, planned_end__lt=today
    )


def plan_list(*, actor: User | None) -> QuerySet[Plan]:
    """Plans of households in the actor's area, each with the measures the actor may see: a
    department officer sees the plans holding one of their department's measures, and only
    those measures."""
    visible = plan_measure_queryset(actor=actor)
    plans = Plan.objects.filter(area_q(actor, "household__village__code"))
    if not perms.can_deliver(actor):
        plans = plans.none()
    elif perms.is_department_officer(actor):
        plans = plans.filter(pk__in=visible.values("plan_id"))
    return (
        plans.select_related(
            "household", "household__village", "household__village__parent", "accepted_by"
        )
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=visible.select_related(
                    "measure", "measure__group", "member", "updated_by"
                ).order_by("status", "planned_end", "id"),
            )
        )
        .order_by("-accepted_at", "-id")
    )


def plan_get(*, actor: User | None, pk: int) -> Plan:
    """One plan in the actor's area; Plan.DoesNotExist (a 404) otherwise."""
    return plan_list(actor=actor).get(pk=pk)


def household_plan(*, household: Household) -> Plan | None:
    """The plan of a household the caller already fetched through household_get."""
    return (
        Plan.objects.filter(household=household)
        .select_related("accepted_by")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=PlanMeasure.objects.select_related(
                    "measure", "measure__group", "member", "updated_by"
                ).order_by("status", "planned_end", "id"),
            )
        )
        .first()
    )


def household_proposals(
    *, household: Household, today: dt.date, members: list[Member] | None = None
) -> list[Proposal]:
    """What the active rules propose for ``household`` beyond what its plan already holds;
    ``members`` when the caller has them already."""
    if members is None:
        members = list(household.members.order_by("id"))
    planned = [
        (pm.measure, pm.member_id)
        for pm in PlanMeasure.objects.filter(plan__household=household)
        .exclude(status=MeasureStatus.STOPPED)
        .select_related("measure")
    ]
    rules = list(rule_list().filter(active=True))
    return propose(household, members, rules, today=today, planned=planned)


def delivered_measure_names(*, household_ids: list[int]) -> dict[int, set[str]]:
    """The names of the measures delivered to each of ``household_ids`` (one query)."""
    names: dict[int, set[str]] = {}
    rows = PlanMeasure.objects.filter(
        plan__household_id__in=household_ids, status=MeasureStatus.DELIVERED
    ).values_list("plan__household_id", "measure__name")
    for household_id, name in rows:
        names.setdefault(household_id, set()).add(name)
    return names


def household_plan_counts(*, household: Household) -> dict[str, int]:
    """How many measures the household's plan holds and how many are delivered (one query)."""
    return PlanMeasure.objects.filter(plan__household=household).aggregate(
        total=Count("id"), delivered=Count("id", filter=Q(status=MeasureStatus.DELIVERED))
    )


def plan_measure_history(*, plan_measure: PlanMeasure) -> QuerySet[AuditEvent]:
    """The audit rows of one plan measure (created, edited, delivered), newest first."""
    return AuditEvent.objects.filter(
        target_type=PlanMeasure._meta.label_lower, target_id=str(plan_measure.pk)
    ).select_related("actor")
