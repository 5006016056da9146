"""Plan-measure filters, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.assistance.choices import OPEN_MEASURE_STATUSES, MeasureSource, MeasureStatus
from shouwang.assistance.models import MeasureGroup, PlanMeasure
from shouwang.core.choices import Department
from shouwang.core.filters import IdFilter


def _prefix(length: int):
    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        return queryset.filter(**{f"{name}__startswith": value[:length]}) if value else queryset

    return apply


class PlanMeasureFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=MeasureStatus.choices)
    department = django_filters.ChoiceFilter(label=_("责任部门"), choices=Department.choices)
    group = django_filters.ModelChoiceFilter(
        label=_("措施类别"), field_name="measure__group", queryset=MeasureGroup.objects.all()
    )
    measure_id = IdFilter(label=_("措施"), field_name="measure_id")
    source = django_filters.ChoiceFilter(label=_("来源"), choices=MeasureSource.choices)
    township = django_filters.CharFilter(
        label=_("乡镇（街道）"), field_name="plan__household__village__code", method=_prefix(9)
    )
    village = django_filters.CharFilter(
        label=_("行政村（社区）"), field_name="plan__household__village_id"
    )
    household_id = IdFilter(label=_("农户"), field_name="plan__household_id")
    overdue = django_filters.BooleanFilter(label=_("仅看逾期"), method="filter_overdue")

    class Meta:
        model = PlanMeasure
        fields = ["status", "department", "source"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Still owed and past the planned completion; ``false`` keeps the rest."""
        if value is None:
            return queryset
        overdue = {"status__in": OPEN_MEASURE_STATUSES, "planned_end__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
