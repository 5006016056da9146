"""Template context for the navigation bar: which sections the user may open, so no link
leads to a 403 page."""

from __future__ import annotations

from django.http import HttpRequest

from shouwang.assistance.permissions import can_deliver, can_plan
from shouwang.core.jurisdiction import can_edit_registry
from shouwang.policy.permissions import can_view_policy
from shouwang.screening.permissions import can_view_screening


def navigation(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_registry_io": can_edit_registry(user),
        # Leads, cases and the village routines are the same people's work.
        "nav_cases": can_edit_registry(user),
        "nav_screening": can_view_screening(user),
        "nav_policy": can_view_policy(user),
        # Plans and delivery: planners, and department officers for their measures.
        "nav_assistance": can_deliver(user),
        # Coverage and social help are the planners' (department officers only deliver).
        "nav_assistance_planning": can_plan(user),
    }
