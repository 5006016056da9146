"""Who may do what in assistance: one place for the role sets the services, pages, API and
navigation check."""

from __future__ import annotations

from shouwang.core.choices import Role
from shouwang.core.jurisdiction import REGISTRY_EDITORS, has_role
from shouwang.core.models import User

#: Maintain the measure catalogue and the recommendation rules.
CATALOGUE_EDITORS = frozenset({Role.DISTRICT_ADMIN})
#: Read the catalogue and rules (everyone who plans or delivers).
CATALOGUE_VIEWERS = REGISTRY_EDITORS | {Role.DEPARTMENT_OFFICER}
#: Accept, edit and add plan measures for households in their area.
PLANNERS = REGISTRY_EDITORS
#: Update delivery: planners in their area, and department officers for their department's
#: measures across their area.
DELIVERERS = REGISTRY_EDITORS | {Role.DEPARTMENT_OFFICER}
#: Register and close social-help offers (organisations do not log in; staff enter them).
OFFER_EDITORS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF, Role.TOWNSHIP_STAFF})


def can_edit_catalogue(actor: User | None) -> bool:
    return has_role(actor, CATALOGUE_EDITORS)


def can_view_catalogue(actor: User | None) -> bool:
    return has_role(actor, CATALOGUE_VIEWERS)


def can_plan(actor: User | None) -> bool:
    return has_role(actor, PLANNERS)


def can_deliver(actor: User | None) -> bool:
    return has_role(actor, DELIVERERS)


def is_department_officer(actor: User | None) -> bool:
    return actor is not None and not actor.is_superuser and actor.role == Role.DEPARTMENT_OFFICER


def can_edit_offers(actor: User | None) -> bool:
    return has_role(actor, OFFER_EDITORS)
