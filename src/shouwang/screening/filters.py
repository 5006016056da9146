"""Alert and batch filters, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.core.choices import Department
from shouwang.core.filters import IdFilter
from shouwang.registry.choices import RiskType
from shouwang.screening import choices as c
from shouwang.screening.models import Alert, FeedBatch, FeedSource, Rule


def _prefix(length: int):
    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        return queryset.filter(**{f"{name}__startswith": value[:length]}) if value else queryset

    return apply


class AlertFilterSet(django_filters.FilterSet):
    rule = django_filters.ModelChoiceFilter(
        label=_("规则"),
        queryset=Rule.objects.order_by("slug"),
        field_name="rule",
        to_field_name="slug",
    )
    risk_type = django_filters.ChoiceFilter(label=_("风险类型"), choices=RiskType.choices)
    severity = django_filters.ChoiceFilter(label=_("严重程度"), choices=c.Severity.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=c.AlertStatus.choices)
    township = django_filters.CharFilter(
        label=_("乡镇（街道）"), field_name="division__code", method=_prefix(9)
    )
    village = django_filters.CharFilter(label=_("行政村（社区）"), field_name="division_id")
    source = django_filters.ModelChoiceFilter(
        label=_("数据来源"),
        queryset=FeedSource.objects.order_by("slug"),
        to_field_name="slug",
        method="filter_source",
    )
    household = IdFilter(label=_("农户"), field_name="household_id")
    unregistered = django_filters.BooleanFilter(label=_("疑似新增监测对象"))
    after_elimination = django_filters.BooleanFilter(label=_("风险消除后监测"))
    period = django_filters.CharFilter(label=_("期别"))
    run = IdFilter(label=_("比对运行"), field_name="run_id")

    class Meta:
        model = Alert
        fields = ["risk_type", "severity", "status", "unregistered", "after_elimination", "period"]

    def filter_source(self, queryset: QuerySet, name: str, value: FeedSource | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(rule__spec__feed=value.slug)


class FeedBatchFilterSet(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(
        label=_("数据源"), queryset=FeedSource.objects.order_by("slug"), to_field_name="slug"
    )
    period = django_filters.CharFilter(label=_("期别"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=c.BatchStatus.choices)
    department = django_filters.ChoiceFilter(
        label=_("部门"), choices=Department.choices, field_name="source__department"
    )

    class Meta:
        model = FeedBatch
        fields = ["period", "status"]
