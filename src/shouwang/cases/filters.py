"""Case filters, shared by the pages and the API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.cases import workflow
from shouwang.cases.choices import CaseKind, CaseState
from shouwang.cases.deadlines import NEAR_DAYS, Urgency
from shouwang.cases.models import Case
from shouwang.core.filters import IdFilter

#: Groups of states offered beside the single states.
OPEN, CLOSED, ALL = "open", "closed", "all"
STATE_CHOICES = [
    (OPEN, _("办理中")),
    (CLOSED, _("已办结")),
    (ALL, _("全部")),
    *CaseState.choices,
]
DEADLINE_CHOICES = [
    (Urgency.NEAR, _("临近时限（%(n)d 天内到期）") % {"n": NEAR_DAYS}),
    (Urgency.OVERDUE, _("已超时限")),
    ("due", _("临近或超过时限")),
]


def _prefix(length: int):
    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        return queryset.filter(**{f"{name}__startswith": value[:length]}) if value else queryset

    return apply


class CaseFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CaseKind.choices)
    state = django_filters.ChoiceFilter(
        label=_("步骤"), choices=STATE_CHOICES, method="filter_state"
    )
    township = django_filters.CharFilter(
        label=_("乡镇（街道）"), field_name="village__code", method=_prefix(9)
    )
    village = django_filters.CharFilter(label=_("行政村（社区）"), field_name="village_id")
    deadline = django_filters.ChoiceFilter(
        label=_("办结时限"), choices=DEADLINE_CHOICES, method="filter_deadline"
    )
    green_channel = django_filters.BooleanFilter(label=_("绿色通道"))
    household = IdFilter(label=_("农户"), field_name="household_id")

    class Meta:
        model = Case
        fields = ["kind", "green_channel"]

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == OPEN:
            return queryset.filter(state__in=workflow.OPEN_STATES)
        if value == CLOSED:
            return queryset.filter(state__in=workflow.FINAL_STATES)
        if value in CaseState.values:
            return queryset.filter(state=value)
        return queryset

    def filter_deadline(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Only open cases run against a limit; a finished case's limit no longer matters.
        today = timezone.localdate()
        near_end = today + dt.timedelta(days=NEAR_DAYS)
        queryset = queryset.filter(state__in=workflow.OPEN_STATES)
        if value == Urgency.NEAR:
            return queryset.filter(next_due_on__gte=today, next_due_on__lte=near_end)
        if value == Urgency.OVERDUE:
            return queryset.filter(next_due_on__lt=today)
        return queryset.filter(next_due_on__lte=near_end)
