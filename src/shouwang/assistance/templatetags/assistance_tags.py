"""Template tags other apps' pages use to point at assistance."""

from __future__ import annotations

from typing import Any

from django import template

from shouwang.assistance import permissions as perms
from shouwang.assistance.selectors import household_plan_counts
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.models import Household

register = template.Library()


@register.inclusion_tag("assistance/_household_plan_link.html", takes_context=True)
def household_plan_link(context: dict[str, Any], household: Household) -> dict[str, Any]:
    """The household page's link to its assistance plan, with how much of it is delivered.

    Shown to planners, for a household in monitoring or one that has a plan already; one
    query for the counts.
    """
    user = context.get("user")
    if not perms.can_plan(user):
        return {"show": False}
    counts = household_plan_counts(household=household)
    show = counts["total"] > 0 or household.monitoring_status != MonitoringStatus.NOT_MONITORED
    return {"show": show, "household": household, **counts}
