"""The policy value form: one number for a parameter, a place and a year, with its source."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import Division
from shouwang.policy.parameters import PARAMETERS
from shouwang.policy.services import DIVISION_LEVELS


def parameter_choices() -> list[tuple[str, str]]:
    return [(key, str(p.label)) for key, p in PARAMETERS.items()]


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Division) -> str:
        return f"{obj.name}（{obj.get_level_display()}）"


class PolicyValueForm(forms.Form):
    parameter = forms.ChoiceField(label=gettext_lazy("参数"), choices=())
    division = DivisionChoiceField(
        label=gettext_lazy("适用区划"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=gettext_lazy("全国（默认值）"),
        help_text=gettext_lazy("省级或区县级数值优先于全国默认值"),
    )
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        required=False,
        help_text=gettext_lazy("留空表示不分年度；某年没有数值时沿用之前最近一年的"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": gettext_lazy("年度应为 4 位数字")},
    )
    value = forms.CharField(
        label=gettext_lazy("数值"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    source = forms.CharField(
        label=gettext_lazy("依据或来源"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("文件名、文号或网址"),
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parameter"].choices = [("", _("请选择")), *parameter_choices()]
        self.fields["division"].queryset = Division.objects.filter(
            level__in=list(DIVISION_LEVELS)
        ).order_by("code")

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "parameter": data["parameter"],
            "division": data["division"],
            "year": data["year"],
            "value": data["value"].strip(),
            "source": data["source"],
            "note": data["note"],
        }

    def add_service_errors(self, exc: ApplicationError) -> None:
        """Put a service's field messages on the fields; the rest above the form."""
        fields = exc.extra.get("fields") or {}
        if not fields:
            self.add_error(None, exc.message)
            return
        for name, message in fields.items():
            self.add_error(name if name in self.fields else None, message)
