"""Who may do what in screening: one place for the role sets the services, pages, API and
navigation check."""

from __future__ import annotations

from shouwang.core.choices import Role
from shouwang.core.jurisdiction import has_role
from shouwang.core.models import User

#: See screening runs, feed sources and uploads, and the rules (departments see their own
#: sources' batches; see feeds.selectors).
SCREENING_VIEWERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF, Role.DEPARTMENT_OFFICER})
#: Start a screening run.
RUNNERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})
#: Change rules and feed sources.
RULE_EDITORS = frozenset({Role.DISTRICT_ADMIN})
#: Dismiss, assign or turn alerts into leads, in their area.
TRIAGERS = frozenset(
    {Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF, Role.TOWNSHIP_STAFF, Role.VILLAGE_CADRE}
)


def can_view_screening(actor: User | None) -> bool:
    return has_role(actor, SCREENING_VIEWERS)


def can_run(actor: User | None) -> bool:
    return has_role(actor, RUNNERS)


def can_edit_rules(actor: User | None) -> bool:
    return has_role(actor, RULE_EDITORS)


def can_triage(actor: User | None) -> bool:
    return has_role(actor, TRIAGERS)
