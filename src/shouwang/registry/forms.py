"""Page forms of the registry. They parse input; the registry services validate and write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.core.models import Division, User
from shouwang.registry.models import Household, Member
from shouwang.registry.selectors import townships_for, villages_for

Section = tuple[str, list[forms.BoundField]]


class SectionedForm(forms.ModelForm):
    """A ModelForm whose fields render in titled groups (``sections``: title, field names)."""

    sections: tuple[tuple[Any, tuple[str, ...]], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            blank_label = _("请选择") if field.required else _("（不填）")
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = blank_label
            elif isinstance(field, forms.ChoiceField):
                field.choices = [("", blank_label)] + [
                    choice for choice in field.choices if choice[0] != ""
                ]

    def grouped(self) -> Iterator[Section]:
        for title, names in self.sections:
            yield str(title), [self[name] for name in names if name in self.fields]

    def service_data(self) -> dict[str, Any]:
        """The cleaned model fields, as the services take them (extra form fields left out)."""
        return {
            name: value for name, value in self.cleaned_data.items() if name in self._meta.fields
        }


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Division) -> str:
        return f"{obj.parent.name} {obj.name}" if obj.parent_id else obj.name


#: The household form's groups. Derived fields (head, count, per-capita income) and the
#: encrypted phone are set by the services; grid members are assigned elsewhere.
HOUSEHOLD_SECTIONS = (
    (_("基本信息"), ("household_number", "village", "household_type", "phone")),
    (
        _("监测信息"),
        (
            "monitoring_category",
            "monitoring_status",
            "identified_month",
            "eliminated_month",
            "elimination_method",
            "risk_type_1",
            "risk_type_2",
            "risk_type_3",
            "risk_type_4",
            "risk_type_5",
        ),
    ),
    (
        _("收入"),
        (
            "income_year",
            "wage_income",
            "operating_income",
            "property_income",
            "transfer_income",
            "productive_expenses",
            "compliant_out_of_pocket",
        ),
    ),
    (_("保障情况"), ("housing_secure", "drinking_water_secure")),
    (_("搬迁"), ("relocated", "relocation_site", "relocation_mode")),
)

#: The member form's groups. Sex and birth date come from the ID number, stored encrypted.
MEMBER_SECTIONS = (
    (_("基本信息"), ("name", "id_number", "relation", "ethnicity", "education", "school_status")),
    (_("健康"), ("health_status", "disability_grade", "disability_type")),
    (_("劳动与就业"), ("labour_skill", "employment_status", "months_employed")),
    (
        _("保障情况"),
        (
            "has_basic_medical_insurance",
            "has_critical_illness_insurance",
            "has_pension_insurance",
            "social_assistance",
        ),
    ),
)


def _model_fields(
    sections: tuple[tuple[Any, tuple[str, ...]], ...], *, extra: set[str]
) -> list[str]:
    return [name for _title, names in sections for name in names if name not in extra]


class HouseholdForm(SectionedForm):
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    sections = HOUSEHOLD_SECTIONS

    class Meta:
        model = Household
        fields = _model_fields(HOUSEHOLD_SECTIONS, extra={"phone"})
        field_classes = {"village": VillageChoiceField}
        widgets = {
            "identified_month": forms.TextInput(
                attrs={"placeholder": "202403", "inputmode": "numeric"}
            ),
            "eliminated_month": forms.TextInput(
                attrs={"placeholder": "202412", "inputmode": "numeric"}
            ),
        }

    def __init__(self, *args: Any, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_for(actor=actor)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        if self.instance.pk:
            self.fields["phone"].help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": self.instance.phone_masked or _("未登记")
            }


class MemberForm(SectionedForm):
    id_number = forms.CharField(label=_("身份证号码"), max_length=32)

    sections = MEMBER_SECTIONS

    class Meta:
        model = Member
        fields = _model_fields(MEMBER_SECTIONS, extra={"id_number"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "off", "spellcheck": "false", "maxlength": 18}
        self.fields["id_number"].widget.attrs.update(attrs)
        if self.instance.pk:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": self.instance.id_number_masked
            }

    def clean_id_number(self) -> str:
        """Parse the number here too, so its error shows with the others on the first submit."""
        raw = self.cleaned_data["id_number"]
        if not raw:
            return ""
        try:
            return parse_id_number(raw).value
        except IdNumberError as exc:
            raise ValidationError(str(exc)) from None


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields, the rest above the form."""
    by_field = (
        error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    )
    for field, messages in by_field.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def _attributes(attrs: dict[str, Any]) -> str:
    """HTML attributes as Django's ``attrs.html`` writes them (True: bare name, False: left out)."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FilterSelect(forms.Select):
    """A dropdown written in Python, with the markup of Django's select templates.

    Django renders a select through a template include per option and another for each
    option's attributes; a list page's filter form has a hundred options or more, which made
    it a fifth of the page's time.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [
            f'<select name="{conditional_escape(widget["name"])}"{_attributes(widget["attrs"])}>'
        ]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            parts.extend(
                f'\n  <option value="{conditional_escape(option["value"])}"'
                f"{_attributes(option['attrs'])}>{conditional_escape(option['label'])}</option>"
                for option in group_choices
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value in it is escaped above


def filter_select(widget: forms.Widget) -> forms.Widget:
    """``widget`` as a FilterSelect when it is a plain Select (same attributes and choices)."""
    if type(widget) is not forms.Select:
        return widget
    fast = FilterSelect(attrs=widget.attrs, choices=widget.choices)
    fast.is_required = widget.is_required
    fast.is_localized = widget.is_localized
    return fast


def with_all_label(choices: Any, label: Any) -> list[tuple[str, Any]]:
    """Choices for a filter dropdown, with an "all" entry first."""
    return [("", label)] + [(value, text) for value, text in choices if value != ""]


def area_dropdowns(form: forms.Form, *, actor: User | None) -> None:
    """Turn a filter form's ``township`` and ``village`` fields into dropdowns of the actor's
    area, shared by every list page.

    A dropdown with a single possible division (a village cadre's one village) is dropped,
    since the area already limits the list to it. Every plain dropdown of the form becomes a
    FilterSelect, so each list page's filters render without a template per option.
    """
    for field in form.fields.values():
        field.widget = filter_select(field.widget)
    township = (form.data.get("township") or "").strip()
    townships = [(d.code, d.name) for d in townships_for(actor=actor)]
    village = (form.data.get("village") or "").strip()
    if township or len(townships) <= 1 or village:
        villages = [
            (d.code, d.name if township or not d.parent_id else f"{d.parent.name} {d.name}")
            for d in villages_for(actor=actor, township=township).select_related("parent")
        ]
    else:
        # A whole county's villages (214 in Wulong) make a long list and a slow page; they
        # are offered once a township is chosen.
        villages = []
    for name, choices, all_label in (
        ("township", townships, _("全部乡镇（街道）")),
        ("village", villages, _("全部村（社区）")),
    ):
        if len(choices) <= 1 and not (name == "village" and (township or village)):
            del form.fields[name]
        else:
            form.fields[name].widget = FilterSelect(choices=with_all_label(choices, all_label))
    if "township" in form.fields and "village" in form.fields:
        # A village of the old township would match nothing in the new one.
        form.fields["township"].widget.attrs["hx-on:change"] = (
            "this.form.elements.village.value = ''"
        )


def household_filter_form(form: forms.Form, *, actor: User | None) -> forms.Form:
    """Adapt a HouseholdFilterSet form for the page: division dropdowns from the actor's area.
    Call before the filterset's ``qs``."""
    area_dropdowns(form, actor=actor)
    for name in (
        "household_type",
        "monitoring_category",
        "monitoring_status",
        "risk_type",
        "labour",
    ):
        field = form.fields[name]
        # The widget renders its own copy of the choices; the field keeps validating the same values.
        field.widget.choices = with_all_label(field.choices, _("全部"))
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"placeholder": _("户主、成员姓名或户编号")})
    form.fields.pop("grid_member_id", None)
    return form


class IdNumberLookupForm(forms.Form):
    """An ID number to look up, POSTed: it must never travel in a URL."""

    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=32,
        error_messages={"required": _("请输入要查找的身份证号码")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_id_number(self) -> str:
        try:
            return parse_id_number(self.cleaned_data["id_number"]).value
        except IdNumberError as exc:
            raise forms.ValidationError(str(exc)) from None
