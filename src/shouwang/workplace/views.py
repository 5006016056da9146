"""The pages that gather from every domain: the home dashboard and the to-do list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shouwang.assistance.coverage import can_view_coverage, coverage_summary
from shouwang.core.views import denied_as_403
from shouwang.registry.choices import MonitoringCategory, MonitoringStatus
from shouwang.registry.selectors import area_summary
from shouwang.screening.selectors import alert_counts_by_rule, alert_counts_by_village
from shouwang.workplace.todo import todo_groups


@login_required
def home(request: HttpRequest) -> HttpResponse:
    summary = area_summary(actor=request.user)
    context = {
        "summary": summary,
        "divisions": request.user.divisions.select_related("parent").order_by("code"),
        # The summary lists every choice in declaration order; the values make the figures links.
        "by_category": list(zip(MonitoringCategory.values, summary.by_category, strict=True)),
        "by_status": list(zip(MonitoringStatus.values, summary.by_status, strict=True)),
        "alerts_by_village": alert_counts_by_village(actor=request.user),
        "alerts_by_rule": alert_counts_by_rule(actor=request.user),
        "todo": todo_groups(actor=request.user, today=timezone.localdate(), shown=0),
        "coverage": coverage_summary(actor=request.user)
        if can_view_coverage(request.user)
        else None,
    }
    return render(request, "workplace/home.html", context)


@denied_as_403
def todo(request: HttpRequest) -> HttpResponse:
    """Everything waiting on the signed-in user."""
    groups = todo_groups(actor=request.user, today=timezone.localdate())
    return render(request, "workplace/todo.html", {"groups": groups})
