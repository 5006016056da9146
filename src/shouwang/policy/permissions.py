"""Who may read and change policy values: one place for the services, pages, API and
navigation to ask."""

from __future__ import annotations

from shouwang.core.choices import Role
from shouwang.core.jurisdiction import has_role
from shouwang.core.models import User

#: Read the policy values (thresholds, income lines).
POLICY_VIEWERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})
#: Add, change and remove them.
POLICY_EDITORS = frozenset({Role.DISTRICT_ADMIN})


def can_view_policy(actor: User | None) -> bool:
    return has_role(actor, POLICY_VIEWERS)


def can_edit_policy(actor: User | None) -> bool:
    return has_role(actor, POLICY_EDITORS)
