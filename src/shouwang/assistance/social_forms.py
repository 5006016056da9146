"""Page forms of social help. They parse input; ``social_services`` decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from shouwang.assistance.models import Measure, SocialOffer
from shouwang.assistance.services import DEFAULT_PLAN_DAYS
from shouwang.assistance.social_services import OFFER_FIELDS, OFFER_KIND_GROUPS
from shouwang.core.choices import DivisionLevel
from shouwang.core.exceptions import ApplicationError
from shouwang.core.jurisdiction import visible_divisions
from shouwang.core.models import Division, User


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_error(form: forms.Form, exc: ApplicationError) -> None:
    """A service's refusal under the field it names (``extra.fields``), or above the form."""
    placed = False
    for name, messages in (exc.extra.get("fields") or {}).items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class MeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Measure) -> str:
        return f"{obj.group.name} · {obj.name}"


class PlaceChoiceField(forms.ModelChoiceField):
    """Divisions in tree order; villages indented under their township."""

    def label_from_instance(self, obj: Division) -> str:
        return f"\u3000{obj.name}" if obj.level == DivisionLevel.VILLAGE else obj.name


class OfferForm(forms.ModelForm):
    measure = MeasureChoiceField(
        label=_("对应措施"),
        queryset=Measure.objects.none(),
        help_text=_("确认对接后，按此措施写入农户的帮扶计划"),
    )
    division = PlaceChoiceField(
        label=_("帮扶地点"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=_("（区外或不限地点）"),
        help_text=_("按距离推荐：同村优先，其次同乡镇、同区县"),
    )

    class Meta:
        model = SocialOffer
        fields = OFFER_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "valid_until": _date_input(),
        }
        help_texts = {
            "capacity": _("最多可确认对接的农户数"),
            "place_note": _("如：山东省淄博市某工业园区"),
        }

    def __init__(self, *args: Any, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = sorted({code for codes in OFFER_KIND_GROUPS.values() for code in codes})
        measures = Measure.objects.filter(group__code__in=groups).select_related("group")
        if self.instance.pk is None:
            measures = measures.filter(active=True)
        else:
            # An inactive measure an offer already uses stays choosable for that offer.
            measures = measures.filter(active=True) | measures.filter(pk=self.instance.measure_id)
        self.fields["measure"].queryset = measures.order_by("group__sort_order", "name")
        self.fields["division"].queryset = (
            visible_divisions(actor).filter(level__gte=DivisionLevel.COUNTY).order_by("code")
        )
        for name in ("organisation_kind", "kind"):
            field = self.fields[name]
            field.choices = [("", _("请选择"))] + [c for c in field.choices if c[0] != ""]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in OFFER_FIELDS}


class OfferCloseForm(forms.Form):
    note = forms.CharField(
        label=_("结束原因"),
        required=False,
        max_length=200,
        help_text=_("待确认的对接建议将一并放弃"),
    )


class MatchConfirmForm(forms.Form):
    responsible_person = forms.CharField(
        label=_("责任人"), required=False, max_length=50, help_text=_("不填则为帮扶主体")
    )
    planned_end = forms.DateField(
        label=_("计划完成日期"),
        required=False,
        widget=_date_input(),
        help_text=format_lazy(_("不填则为 {days} 天后"), days=DEFAULT_PLAN_DAYS),
    )


class MatchDeclineForm(forms.Form):
    note = forms.CharField(
        label=_("放弃原因"),
        max_length=200,
        error_messages={"required": _("请说明放弃对接的原因")},
    )
