"""Reads from the registry, always limited to the actor's area."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from shouwang.core import crypto
from shouwang.core.audit import subject_key
from shouwang.core.choices import DivisionLevel
from shouwang.core.jurisdiction import area_q, visible_divisions
from shouwang.core.models import AuditEvent, Division, User
from shouwang.registry.choices import MonitoringCategory, MonitoringStatus
from shouwang.registry.models import Household, Member


def household_queryset(*, actor: User | None) -> QuerySet[Household]:
    """Every household the actor may see."""
    return Household.objects.filter(area_q(actor, "village__code"))


def household_list(*, actor: User | None) -> QuerySet[Household]:
    """Households for list pages and the API, with what a row displays joined in."""
    return (
        household_queryset(actor=actor)
        .select_related("village", "village__parent")
        .order_by("household_number")
    )


#: What a row of the household list shows (registry/_household_results.html).
HOUSEHOLD_ROW_FIELDS = (
    "household_number",
    "head_name",
    "household_type",
    "monitoring_category",
    "monitoring_status",
    "member_count",
    "per_capita_net_income",
    "village__name",
    "village__level",
    "village__parent__name",
    "village__parent__level",
)


def household_rows(*, actor: User | None) -> QuerySet[Household]:
    """household_list for the list page, reading only the columns a row shows: a household
    has 36, and converting the rest (incomes, timestamps) cost more than the query."""
    return household_list(actor=actor).only(*HOUSEHOLD_ROW_FIELDS)


def household_get(*, actor: User | None, pk: int) -> Household:
    """One household in the actor's area; Household.DoesNotExist (a 404) otherwise."""
    return household_list(actor=actor).select_related("grid_member", "grid").get(pk=pk)


def member_queryset(*, actor: User | None) -> QuerySet[Member]:
    return Member.objects.filter(area_q(actor, "household__village__code"))


def member_list(*, actor: User | None) -> QuerySet[Member]:
    return (
        member_queryset(actor=actor)
        .select_related("household")
        .order_by("household__household_number", "id")
    )


def members_with_id_number(*, actor: User | None, id_number: str) -> QuerySet[Member]:
    """Members of the actor's area registered with ``id_number`` (by blind index); an ID
    registered elsewhere finds nothing, as an ID registered nowhere."""
    return member_list(actor=actor).filter(
        id_number_index=crypto.blind_index("".join(id_number.split()).upper())
    )


def member_get(*, actor: User | None, pk: int) -> Member:
    return member_list(actor=actor).get(pk=pk)


def household_members(*, household: Household) -> QuerySet[Member]:
    """Members of a household the caller already fetched through household_get."""
    return household.members.order_by("id")


def household_history(*, household: Household, limit: int = 200) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject=subject_key(household)).select_related("actor")[:limit]


def division_list(*, actor: User | None) -> QuerySet[Division]:
    return visible_divisions(actor).select_related("parent")


def townships_for(*, actor: User | None) -> QuerySet[Division]:
    return division_list(actor=actor).filter(level=DivisionLevel.TOWNSHIP)


def villages_for(*, actor: User | None, township: str = "") -> QuerySet[Division]:
    qs = division_list(actor=actor).filter(level=DivisionLevel.VILLAGE)
    if township:
        qs = qs.filter(code__startswith=township[:9])
    return qs


@dataclass(frozen=True)
class AreaSummary:
    households: int
    members: int
    monitored: int
    by_category: list[tuple[str, int]]
    by_status: list[tuple[str, int]]


def area_summary(*, actor: User | None) -> AreaSummary:
    """The figures of the home page for the actor's area (three queries whatever the size)."""
    households = household_queryset(actor=actor)
    totals = households.aggregate(
        households=Count("id"),
        monitored=Count("id", filter=~Q(monitoring_status=MonitoringStatus.NOT_MONITORED)),
    )
    members = member_queryset(actor=actor).count()
    category_counts = dict(
        households.exclude(monitoring_category="")
        .values_list("monitoring_category")
        .annotate(n=Count("id"))
        .values_list("monitoring_category", "n")
    )
    status_counts = dict(
        households.values_list("monitoring_status")
        .annotate(n=Count("id"))
        .values_list("monitoring_status", "n")
    )
    return AreaSummary(
        households=totals["households"],
        members=members,
        monitored=totals["monitored"],
        by_category=[
            (str(label), category_counts.get(value, 0))
            for value, label in MonitoringCategory.choices
        ],
        by_status=[
            (str(label), status_counts.get(value, 0)) for value, label in MonitoringStatus.choices
        ],
    )
