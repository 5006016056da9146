"""One FilterSet per model, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.core.filters import IdFilter
from shouwang.core.logredact import looks_like_id_number
from shouwang.registry import choices as c
from shouwang.registry.models import RISK_FIELDS, Household, Member


def _division_prefix_filter(length: int):
    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(**{f"{name}__startswith": value[:length]})

    return apply


class SearchTextField(forms.CharField):
    """Search text that travels in the query string: a name or a household number, never an
    ID number (URLs end up in logs, histories and proxies; ID lookups are POSTed)."""

    def clean(self, value):
        value = super().clean(value)
        if value and looks_like_id_number(value):
            raise forms.ValidationError(
                _("身份证号码不能放在网址中查询，请使用“按身份证号码查找”"), code="id_in_url"
            )
        return value


class SearchFilter(django_filters.CharFilter):
    field_class = SearchTextField


class HouseholdFilterSet(django_filters.FilterSet):
    q = SearchFilter(label=_("姓名或户编号"), method="filter_search")
    township = django_filters.CharFilter(
        label=_("乡镇（街道）"), field_name="village__code", method=_division_prefix_filter(9)
    )
    village = django_filters.CharFilter(
        label=_("行政村（社区）"), field_name="village_id", lookup_expr="exact"
    )
    household_type = django_filters.ChoiceFilter(label=_("户类型"), choices=c.HouseholdType.choices)
    monitoring_category = django_filters.ChoiceFilter(
        label=_("监测对象类别"), choices=c.MonitoringCategory.choices
    )
    monitoring_status = django_filters.ChoiceFilter(
        label=_("监测状态"), choices=c.MonitoringStatus.choices
    )
    risk_type = django_filters.ChoiceFilter(
        label=_("致贫/返贫风险"), choices=c.RiskType.choices, method="filter_risk"
    )
    labour = django_filters.ChoiceFilter(
        label=_("劳动技能（有成员为）"), choices=c.LabourSkill.choices, method="filter_labour"
    )
    grid_member_id = IdFilter(label=_("网格员"), field_name="grid_member_id")

    class Meta:
        model = Household
        fields = ["household_type", "monitoring_category", "monitoring_status"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Names and household numbers (ID numbers are looked up by POST: ``find``)."""
        value = value.strip()
        if not value:
            return queryset
        by_member = Member.objects.filter(household=OuterRef("pk"), name__contains=value)
        return queryset.filter(
            Q(head_name__contains=value) | Q(household_number=value) | Exists(by_member)
        )

    def filter_risk(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        q = Q()
        for field in RISK_FIELDS:
            q |= Q(**{field: value})
        return queryset.filter(q)

    def filter_labour(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(
            Exists(Member.objects.filter(household=OuterRef("pk"), labour_skill=value))
        )


class MemberFilterSet(django_filters.FilterSet):
    household_id = IdFilter(field_name="household_id")
    village = django_filters.CharFilter(field_name="household__village_id")
    township = django_filters.CharFilter(
        field_name="household__village__code", method=_division_prefix_filter(9)
    )
    name = SearchFilter(field_name="name", lookup_expr="contains")
    labour_skill = django_filters.ChoiceFilter(choices=c.LabourSkill.choices)
    health_status = django_filters.ChoiceFilter(choices=c.HealthStatus.choices)
    school_status = django_filters.ChoiceFilter(choices=c.SchoolStatus.choices)
    sex = django_filters.ChoiceFilter(choices=c.Sex.choices)

    class Meta:
        model = Member
        fields = ["household_id", "labour_skill", "health_status", "school_status", "sex"]
