"""What an actor may see and do. Selectors build their querysets from ``area_q``."""

from __future__ import annotations

from django.db.models import Q

from shouwang.core.choices import Role
from shouwang.core.models import Division, User

#: Roles that may create, change and delete registry records in their area.
REGISTRY_EDITORS = frozenset(
    {Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF, Role.TOWNSHIP_STAFF, Role.VILLAGE_CADRE}
)


class FullAccess:
    """The actor of commands run without ``--user``: the whole database, no area limit."""

    pk = None
    is_superuser = True


def actor_prefixes(actor: User) -> list[str]:
    """The code prefixes of the actor's divisions; a prefix covers everything below it."""
    cached = getattr(actor, "_area_prefixes", None)
    if cached is None:
        cached = [d.prefix for d in actor.divisions.all()]
        actor._area_prefixes = cached  # type: ignore[attr-defined]
    return cached


def area_q(actor: User | None, field: str) -> Q:
    """A filter on a 12-digit division code ``field`` limited to the actor's area.

    Superusers see everything; an actor bound to no division sees nothing.
    """
    if actor is None or actor.is_superuser:
        return Q()
    prefixes = actor_prefixes(actor)
    if not prefixes:
        return Q(pk__in=[])
    q = Q()
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix}) if len(prefix) < 12 else Q(**{field: prefix})
    return q


def division_in_area(actor: User | None, code: str) -> bool:
    if actor is None or actor.is_superuser:
        return True
    return any(code.startswith(p) for p in actor_prefixes(actor))


def visible_divisions(actor: User | None):
    """Divisions in the actor's area (the bound divisions and everything below them)."""
    qs = Division.objects.all()
    if actor is None or actor.is_superuser:
        return qs
    return qs.filter(area_q(actor, "code"))


def has_role(actor: User | None, roles: frozenset[str]) -> bool:
    """Whether the actor holds one of ``roles``; commands (no actor) and superusers hold all."""
    return actor is None or actor.is_superuser or actor.role in roles


def can_edit_registry(actor: User | None) -> bool:
    if actor is None or actor.is_superuser:
        return True
    return actor.role in REGISTRY_EDITORS


def can_reveal_personal_data(actor: User | None) -> bool:
    """Full ID and phone numbers: district administrators, or anyone granted the permission."""
    if actor is None or actor.is_superuser:
        return True
    return actor.role == Role.DISTRICT_ADMIN or actor.has_perm("core.reveal_personal_data")
