"""Page forms of the screening app. They parse input; the screening services decide and write."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import User
from shouwang.registry.forms import area_dropdowns, with_all_label
from shouwang.screening import services
from shouwang.screening.choices import AlertStatus, Engine
from shouwang.screening.filters import AlertFilterSet
from shouwang.screening.models import Rule

UNRESOLVED = "unresolved"


class AlertPageFilterSet(AlertFilterSet):
    """The alert list's filters: the shared ones, plus "unresolved" (open or assigned), which
    the dashboard's counts link to."""

    status = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[(UNRESOLVED, _("未处理（待处理、已交办）")), *AlertStatus.choices],
        method="filter_status",
    )

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == UNRESOLVED:
            return queryset.filter(status__in=services.UNRESOLVED)
        return queryset.filter(status=value) if value else queryset


#: Filters kept in the query string but not offered as dropdowns (links from other pages).
HIDDEN_FILTERS = ("household", "run", "after_elimination")


def alert_filter_form(form: forms.Form, *, actor: User | None) -> forms.Form:
    """Adapt an AlertPageFilterSet form for the page; call before the filterset's ``qs``.

    Township and village are dropdowns of the actor's area, as on the household list: a
    county's villages are offered once a township is chosen, and a dropdown with one possible
    division (a village cadre's village) is left out.
    """
    area_dropdowns(form, actor=actor)
    for name in ("risk_type", "severity", "status"):
        field = form.fields[name]
        field.widget.choices = with_all_label(field.choices, _("全部"))
    form.fields["rule"].empty_label = _("全部规则")
    form.fields["source"].empty_label = _("全部数据来源")
    form.fields["unregistered"].widget = forms.Select(
        choices=[
            ("", _("全部对象")),
            ("false", _("在册农户")),
            ("true", _("疑似新增监测对象（未在册）")),
        ]
    )
    form.fields["period"].widget.attrs.update({"placeholder": "2026-10", "inputmode": "numeric"})
    for name in HIDDEN_FILTERS:
        form.fields[name].widget = forms.HiddenInput()
    return form


# --- triage ------------------------------------------------------------------------------


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("排除理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例如：已核实，住院费用已由大病保险和医疗救助报销，家庭收入稳定。"),
        error_messages={"required": _("请填写排除理由")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "dismiss_%s")
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("交办给"),
        queryset=User.objects.none(),
        empty_label=_("请选择交办对象"),
        error_messages={
            "required": _("请选择交办对象"),
            "invalid_choice": _("只能指派给您管辖范围内可处理该预警的用户"),
        },
    )
    note = forms.CharField(
        label=_("交办说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, assignees: QuerySet[User], **kwargs: Any) -> None:
        # The three triage forms share a page: ids of their own, names unchanged.
        kwargs.setdefault("auto_id", "assign_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees
        field.label_from_instance = assignee_label


def assignee_label(user: User) -> str:
    name = user.display_name or user.username
    places = "、".join(d.name for d in user.divisions.all())
    return f"{name}（{user.get_role_display()}{' · ' + places if places else ''}）"


class LeadForm(forms.Form):
    note = forms.CharField(
        label=_("线索说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "lead_%s")
        super().__init__(*args, **kwargs)


# --- runs --------------------------------------------------------------------------------


class RuleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Rule) -> str:
        return obj.name


class RunForm(forms.Form):
    period = forms.CharField(
        label=_("比对期别"),
        max_length=7,
        help_text=_("年-月，例如 2026-10；默认为最近一期已导入的部门数据"),
        error_messages={"required": _("请填写比对期别")},
    )
    engine = forms.ChoiceField(label=_("计算引擎"), choices=Engine.choices, initial=Engine.DUCKDB)
    rules = RuleChoiceField(
        label=_("只运行这些规则"),
        queryset=Rule.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选则运行全部启用的规则"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": "2026-10"}
        )
        self.fields["rules"].queryset = Rule.objects.filter(active=True).order_by("slug")

    def clean_period(self) -> str:
        try:
            return services.period_validate(self.cleaned_data["period"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
