"""Reads of grids (网格), always limited to the actor's area."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from shouwang.core.jurisdiction import area_q
from shouwang.core.models import User
from shouwang.registry.grid_services import GRID_WORKER_ROLES
from shouwang.registry.models import Grid, Household


def grid_queryset(*, actor: User | None) -> QuerySet[Grid]:
    return Grid.objects.filter(area_q(actor, "village__code"))


def grid_list(*, actor: User | None) -> QuerySet[Grid]:
    """The actor's grids with their village, workers and ``household_count``."""
    return (
        grid_queryset(actor=actor)
        .select_related("village", "village__parent")
        .prefetch_related(Prefetch("members", queryset=User.objects.order_by("username")))
        .annotate(household_count=Count("households", distinct=True))
        .order_by("village_id", "name")
    )


def grid_get(*, actor: User | None, pk: int) -> Grid:
    """One grid in the actor's area; Grid.DoesNotExist (a 404) otherwise."""
    return grid_list(actor=actor).get(pk=pk)


def grid_households(*, grid: Grid) -> QuerySet[Household]:
    """Households of a grid the caller already fetched through grid_get."""
    return grid.households.order_by("household_number")


def grids_of_user(*, user: User) -> QuerySet[Grid]:
    """The grids a user works, with household counts (for their to-do list and home page)."""
    return (
        user.grids.select_related("village", "village__parent")
        .annotate(household_count=Count("households", distinct=True))
        .order_by("village_id", "name")
    )


def grid_worker_choices(*, village_code: str) -> QuerySet[User]:
    """Users who may work a grid of the village: active village cadres and township staff
    bound to the village or to a division above it (its township or county)."""
    covering = {village_code[:n].ljust(12, "0") for n in (6, 9)} | {village_code}
    return (
        User.objects.filter(
            is_active=True, role__in=GRID_WORKER_ROLES, divisions__code__in=covering
        )
        .distinct()
        .order_by("role", "username")
    )
