"""Lead filters, shared by the inbox page and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.cases.choices import LeadChannel, LeadStatus
from shouwang.cases.models import Lead
from shouwang.core.filters import IdFilter


class LeadFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("姓名或户编号"), method="filter_q")
    channel = django_filters.ChoiceFilter(label=_("线索来源"), choices=LeadChannel.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=LeadStatus.choices)
    township = django_filters.CharFilter(label=_("乡镇（街道）"), method="filter_township")
    village = django_filters.CharFilter(label=_("行政村（社区）"), field_name="division_id")
    received_after = django_filters.DateFilter(
        label=_("发现日期起"),
        field_name="received_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_before = django_filters.DateFilter(
        label=_("发现日期止"),
        field_name="received_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    household = IdFilter(label=_("农户"), field_name="household_id")

    class Meta:
        model = Lead
        fields = ["channel", "status"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(person_name__contains=value)
            | Q(reporter_name__contains=value)
            | Q(household__head_name__contains=value)
            | Q(household__household_number=value)
        )

    def filter_township(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(division__code__startswith=value[:9]) if value else queryset
