"""Forms of the leads inbox and the public self-application. They parse input; the cases
services decide and write."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.cases.choices import LeadChannel, LeadStatus
from shouwang.cases.lead_filters import LeadFilterSet
from shouwang.cases.lead_selectors import public_townships, public_villages
from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.core.models import Division, User
from shouwang.registry.forms import area_dropdowns, with_all_label
from shouwang.registry.selectors import household_queryset, villages_for

#: Channels a cadre records by hand; self-applications come from the public page and
#: department alerts from the alert page.
CADRE_CHANNELS = (
    LeadChannel.HOME_VISIT,
    LeadChannel.WHISTLEBLOWER,
    LeadChannel.MEDIA,
    LeadChannel.PETITION,
)
#: A mobile number, or a landline with its area code (023-12345678).
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class VillageField(forms.ModelChoiceField):
    """Villages labelled with their township, as a county-wide list needs."""

    def label_from_instance(self, obj: Division) -> str:
        return f"{obj.parent.name} {obj.name}" if obj.parent_id else obj.name


def clean_id_number(value: str) -> str:
    value = "".join((value or "").split())
    if not value:
        return ""
    try:
        return parse_id_number(value).value
    except IdNumberError as exc:
        raise forms.ValidationError(str(exc)) from None


def clean_phone(value: str) -> str:
    value = "".join((value or "").split())
    if value and not PHONE_PATTERN.match(value):
        raise forms.ValidationError(
            _("请填写 11 位手机号码，或带区号的固定电话（如 023-77712345）")
        )
    return value


# --- the inbox's filters ------------------------------------------------------------------


class LeadPageFilterSet(LeadFilterSet):
    """The inbox's filters. Merged leads show under the lead they merged into, so the list
    holds the other leads unless one asks for merged leads; a channel also finds the leads
    that took in a lead from that channel."""

    channel = django_filters.ChoiceFilter(
        label=_("线索来源"), choices=LeadChannel.choices, method="filter_channel"
    )

    def filter_channel(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Q(channel=value) | Q(merged__channel=value)).distinct()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("status") != LeadStatus.MERGED:
            queryset = queryset.filter(merged_into__isnull=True)
        return queryset


def lead_filter_form(form: forms.Form, *, actor: User | None) -> forms.Form:
    """Adapt a LeadPageFilterSet form for the page; call before the filterset's ``qs``.

    Township and village are dropdowns of the actor's area as on the alert list: a county's
    villages are offered once a township is chosen, and a dropdown with one possible division
    (a village cadre's village) is left out.
    """
    area_dropdowns(form, actor=actor)
    for name in ("channel", "status"):
        field = form.fields[name]
        field.widget.choices = with_all_label(field.choices, _("全部"))
    form.fields["q"].widget.attrs["placeholder"] = _("姓名、户主或户编号")
    form.fields["household"].widget = forms.HiddenInput()
    return form


# --- recording a lead ---------------------------------------------------------------------


class LeadCreateForm(forms.Form):
    """A lead a cadre records: a registered household by its number, or a person by name, ID
    number and village."""

    channel = forms.ChoiceField(
        label=_("线索来源"),
        choices=[(c.value, c.label) for c in CADRE_CHANNELS],
        initial=LeadChannel.HOME_VISIT,
    )
    received_on = forms.DateField(
        label=_("发现日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("识别时限从这一天算起"),
        error_messages={"required": _("请填写发现日期"), "invalid": _("日期格式为 2026-11-02")},
    )
    household_number = forms.CharField(
        label=_("户编号"),
        max_length=32,
        required=False,
        help_text=_("已在档案中的农户填户编号；未建档的填下面的姓名、身份证号码和所在村"),
    )
    person_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("身份证号码"), max_length=32, required=False)
    village = VillageField(
        label=_("所在村（社区）"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=_("请选择"),
    )
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    reporter_name = forms.CharField(
        label=_("报告人或来源"),
        max_length=50,
        required=False,
        help_text=_("吹哨人、媒体名称或信访件来源；可不填"),
    )
    description = forms.CharField(
        label=_("情况说明"),
        max_length=4000,
        widget=_textarea(4),
        help_text=_("家庭遇到的困难、发现经过"),
        error_messages={"required": _("请填写情况说明")},
    )

    def __init__(self, *args: Any, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["village"].queryset = villages_for(actor=actor).select_related("parent")
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        number = (data.get("household_number") or "").strip()
        data["household"] = None
        if number:
            household = (
                household_queryset(actor=self.actor)
                .select_related("village")
                .filter(household_number=number)
                .first()
            )
            if household is None:
                self.add_error(
                    "household_number",
                    _("您的管辖范围内没有户编号为“%(n)s”的农户") % {"n": number},
                )
            data["household"] = household
            return data
        for name, message in (
            ("person_name", _("请填写姓名，或填写已建档农户的户编号")),
            ("id_number", _("请填写身份证号码，或填写已建档农户的户编号")),
            ("village", _("请选择所在村（社区）")),
        ):
            # A field that failed its own check already says why.
            if name not in self.errors and not data.get(name):
                self.add_error(name, message)
        return data


class CaseOpenForm(forms.Form):
    """Open identification from a lead; a lead not yet placed in a village is placed here."""

    village = VillageField(
        label=_("所在村（社区）"),
        queryset=Division.objects.none(),
        empty_label=_("请选择"),
        help_text=_("该线索尚未定位到村，启动识别前请选择所在村"),
        error_messages={"required": _("请选择所在村（社区）")},
    )
    green_channel = forms.BooleanField(
        label=_("启用绿色通道（先行帮扶，后补程序）"),
        required=False,
        help_text=_("用于自然灾害、意外事故等突发情况"),
    )
    green_channel_reason = forms.CharField(
        label=_("绿色通道事由"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：7 月洪灾房屋受损")}),
    )

    def __init__(self, *args: Any, villages: QuerySet[Division] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if villages is None:
            del self.fields["village"]
        else:
            self.fields["village"].queryset = villages

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("green_channel") and not (data.get("green_channel_reason") or "").strip():
            self.add_error(
                "green_channel_reason", _("启用绿色通道须说明事由（如自然灾害、意外事故）")
            )
        return data


class LeadCloseForm(forms.Form):
    reason = forms.CharField(
        label=_("关闭原因"),
        max_length=2000,
        widget=_textarea(3),
        help_text=_("例如：经入户核实，家庭收入稳定，无返贫致贫风险。"),
        error_messages={"required": _("请填写关闭原因")},
    )


# --- the public self-application ----------------------------------------------------------

PLEDGE_TEXT = _("本人承诺如实申报家庭收入、财产等情况，如有虚假愿承担相应责任。")
CONSENT_TEXT = _("本人同意授权核查家庭存款、车辆、住房等资产。")


class ApplyForm(forms.Form):
    township = forms.ModelChoiceField(
        label=_("所在乡镇（街道）"),
        queryset=Division.objects.none(),
        empty_label=_("请选择乡镇（街道）"),
        error_messages={"required": _("请选择所在乡镇（街道）")},
    )
    village = VillageField(
        label=_("所在村（社区）"),
        queryset=Division.objects.none(),
        empty_label=_("请选择村（社区）"),
        error_messages={
            "required": _("请选择所在村（社区）"),
            "invalid_choice": _("请重新选择所在村（社区）"),
        },
    )
    applicant_name = forms.CharField(
        label=_("申请人姓名"), max_length=50, error_messages={"required": _("请填写申请人姓名")}
    )
    id_number = forms.CharField(
        label=_("申请人身份证号码"),
        max_length=32,
        error_messages={"required": _("请填写申请人身份证号码")},
    )
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        help_text=_("村里会通过这个电话联系您入户核实"),
        error_messages={"required": _("请填写联系电话，以便村里联系入户核实")},
    )
    description = forms.CharField(
        label=_("家庭困难情况"),
        max_length=4000,
        widget=_textarea(5),
        help_text=_("如：家人患病住院、因灾房屋受损、失业断了收入、孩子上学开支大等"),
        error_messages={"required": _("请简要说明家庭遇到的困难")},
    )
    pledge_signed = forms.BooleanField(
        label=PLEDGE_TEXT, error_messages={"required": _("请阅读并勾选承诺")}
    )
    asset_check_consent = forms.BooleanField(
        label=CONSENT_TEXT, error_messages={"required": _("请勾选同意授权核查家庭资产")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = public_townships()
        self.fields["township"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("apply:villages"),
                "hx-target": "#village-field",
                "hx-swap": "outerHTML",
            }
        )
        # Any village of the district is a valid choice; the list shown follows the township.
        self.fields["village"].queryset = public_villages()
        township = (self.data.get("township") or "").strip() if self.is_bound else ""
        self.show_villages_of(township)
        self.fields["applicant_name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["id_number"].widget.attrs.update(
            {"autocomplete": "off", "inputmode": "text", "autocapitalize": "characters"}
        )
        self.fields["phone"].widget.attrs.update(
            {"inputmode": "tel", "autocomplete": "tel", "type": "tel"}
        )
        self.fields["phone"].widget.input_type = "tel"

    def show_villages_of(self, township: str) -> None:
        """Offer the township's villages; with none chosen (or without JavaScript, where the
        list cannot follow the township) every village, grouped by township."""
        empty = ("", self.fields["village"].empty_label)
        villages = list(public_villages(township=township)) if township else []
        if villages:
            choices: list[Any] = [empty, *((v.code, v.name) for v in villages)]
        else:
            groups: dict[str, list[tuple[str, str]]] = {}
            for village in public_villages():
                parent = village.parent.name if village.parent_id else ""
                groups.setdefault(parent, []).append((village.code, village.name))
            choices = [empty, *groups.items()]
        self.fields["village"].widget.choices = choices

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        township, village = data.get("township"), data.get("village")
        if township is not None and village is not None and village.parent_id != township.code:
            self.add_error(
                "village",
                _("%(village)s不属于%(township)s，请重新选择")
                % {"village": village.name, "township": township.name},
            )
        return data


class StatusForm(forms.Form):
    tracking_code = forms.CharField(
        label=_("查询码"),
        max_length=20,
        help_text=_("提交申请后页面上显示的 10 位查询码，不区分大小写"),
        error_messages={"required": _("请填写查询码")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tracking_code"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )

    def clean_tracking_code(self) -> str:
        return "".join(self.cleaned_data["tracking_code"].split()).upper()
