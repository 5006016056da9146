"""Writes to grids (网格): the grid, its workers and the households assigned to it.

Editors are registry editors within their area; every write leaves audit rows. Assignment
changes are also logged under each household, so its page shows when it changed grid.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_event, audit_record, model_snapshot, subject_key
from shouwang.core.choices import AuditAction, DivisionLevel, Role
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.jurisdiction import can_edit_registry, division_in_area
from shouwang.core.models import AuditEvent, Division, User
from shouwang.registry.models import Grid, Household

#: Who may work a grid: the village's cadres and the staff of its township.
GRID_WORKER_ROLES = frozenset({Role.VILLAGE_CADRE, Role.TOWNSHIP_STAFF})


def _require_editor(actor: User | None, village_code: str) -> None:
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色不能管理网格"))
    if not division_in_area(actor, village_code):
        raise PermissionDenied(_("该行政村不在您的管辖范围内"))


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写网格名称")})
    return name


def _check_workers(village: Division, members: Iterable[User]) -> list[User]:
    """Grid workers must be active village cadres or township staff whose area covers the
    village: a worker outside it could not open the households they are meant to visit."""
    members = list(members)
    bad = [
        str(user)
        for user in members
        if not user.is_active
        or user.role not in GRID_WORKER_ROLES
        or not division_in_area(user, village.code)
    ]
    if bad:
        raise ValidationError(
            {
                "members": _(
                    "以下用户不能担任该村网格员（须为管辖该村的村干部或乡镇（街道）工作人员）：%(names)s"
                )
                % {"names": "、".join(bad)}
            }
        )
    return members


def _snapshot(grid: Grid) -> dict:
    data = model_snapshot(grid)
    data["members"] = sorted(grid.members.values_list("pk", flat=True))
    return data


def _unique_name(grid: Grid) -> None:
    clash = Grid.objects.filter(village_id=grid.village_id, name=grid.name).exclude(pk=grid.pk)
    if clash.exists():
        raise ValidationError({"name": _("该行政村已有同名网格")})


@transaction.atomic
def grid_create(
    *,
    actor: User | None,
    name: str,
    village: Division,
    members: Iterable[User] = (),
    note: str = "",
) -> Grid:
    _require_editor(actor, village.code)
    if village.level != DivisionLevel.VILLAGE:
        raise ValidationError({"village": _("网格只能建在行政村（社区）下")})
    grid = Grid(name=_check_name(name), village=village, note=(note or "").strip())
    _unique_name(grid)
    workers = _check_workers(village, members)
    grid.save()
    grid.members.set(workers)
    audit_record(actor=actor, action=AuditAction.CREATE, target=grid, after=_snapshot(grid))
    return grid


@transaction.atomic
def grid_update(
    *,
    actor: User | None,
    grid: Grid,
    name: str,
    members: Iterable[User],
    note: str = "",
) -> Grid:
    """Rename a grid, change its workers or note. The village stays: households hang on it."""
    grid = Grid.objects.select_for_update().select_related("village").get(pk=grid.pk)
    _require_editor(actor, grid.village_id)
    before = _snapshot(grid)
    grid.name = _check_name(name)
    grid.note = (note or "").strip()
    _unique_name(grid)
    workers = _check_workers(grid.village, members)
    grid.save()
    grid.members.set(workers)
    after = _snapshot(grid)
    if before != after:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, target=grid, before=before, after=after
        )
    return grid


def _household_events(
    actor: User | None, households: Iterable[Household], before: str | None, after: str | None
) -> list[AuditEvent]:
    return [
        audit_event(
            actor=actor,
            action=AuditAction.UPDATE,
            target=household,
            subject=subject_key(household),
            before={"grid": before},
            after={"grid": after},
        )
        for household in households
    ]


@transaction.atomic
def grid_delete(*, actor: User | None, grid: Grid) -> None:
    """Delete a grid; its households stay in the registry without a grid."""
    grid = Grid.objects.select_for_update().get(pk=grid.pk)
    _require_editor(actor, grid.village_id)
    households = list(grid.households.all())
    events = _household_events(actor, households, grid.name, None)
    events.append(
        audit_event(
            actor=actor,
            action=AuditAction.DELETE,
            target=grid,
            before=_snapshot(grid) | {"households": [h.pk for h in households]},
        )
    )
    AuditEvent.objects.bulk_create(events)
    grid.delete()


def _locked_households(grid: Grid, household_ids: Iterable[int]) -> list[Household]:
    ids = sorted({int(pk) for pk in household_ids})
    households = list(
        Household.objects.select_for_update(of=("self",)).select_related("grid").filter(pk__in=ids)
    )
    missing = set(ids) - {h.pk for h in households}
    outside = [h.household_number for h in households if h.village_id != grid.village_id]
    errors = []
    if missing:
        errors.append(
            _("找不到农户（编号 %(ids)s）") % {"ids": ", ".join(map(str, sorted(missing)))}
        )
    if outside:
        errors.append(
            _("以下农户不属于网格所在的行政村：%(numbers)s") % {"numbers": "、".join(outside)}
        )
    if errors:
        raise ValidationError(errors)
    return households


@transaction.atomic
def households_assign_to_grid(
    *, actor: User | None, grid: Grid, household_ids: Iterable[int]
) -> int:
    """Put households of the grid's village into the grid (moving them from another grid).

    All or nothing: one household outside the village refuses the whole request. Returns how
    many households changed grid.
    """
    grid = Grid.objects.select_for_update().get(pk=grid.pk)
    _require_editor(actor, grid.village_id)
    households = [h for h in _locked_households(grid, household_ids) if h.grid_id != grid.pk]
    events = []
    for household in households:
        events += _household_events(
            actor, [household], household.grid.name if household.grid else None, grid.name
        )
    Household.objects.filter(pk__in=[h.pk for h in households]).update(
        grid=grid, updated_at=timezone.now()
    )
    if households:
        events.append(
            audit_event(
                actor=actor,
                action=AuditAction.UPDATE,
                target=grid,
                extra={"assigned": [h.pk for h in households]},
            )
        )
    AuditEvent.objects.bulk_create(events)
    return len(households)


@transaction.atomic
def households_remove_from_grid(
    *, actor: User | None, grid: Grid, household_ids: Iterable[int]
) -> int:
    """Take households out of the grid; those not in it are left alone."""
    grid = Grid.objects.select_for_update().get(pk=grid.pk)
    _require_editor(actor, grid.village_id)
    households = list(
        grid.households.select_for_update().filter(pk__in={int(pk) for pk in household_ids})
    )
    events = _household_events(actor, households, grid.name, None)
    Household.objects.filter(pk__in=[h.pk for h in households]).update(
        grid=None, updated_at=timezone.now()
    )
    if households:
        events.append(
            audit_event(
                actor=actor,
                action=AuditAction.UPDATE,
                target=grid,
                extra={"removed": [h.pk for h in households]},
            )
        )
    AuditEvent.objects.bulk_create(events)
    return len(households)
