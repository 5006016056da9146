"""Page forms of assistance. They parse input; the assistance services check and write.

The catalogue and rule forms are ModelForms for their labels and field checks, but the
pages hand a copy of the record to them (a ModelForm writes the posted values onto its
instance while validating) and pass ``service_data()`` to the services, which save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from shouwang.assistance import services
from shouwang.assistance.choices import OPEN_MEASURE_STATUSES, STATUS_MOVES, MeasureStatus
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure, RecommendationRule
from shouwang.core.choices import Department
from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import User
from shouwang.registry.choices import HealthStatus, LabourSkill, RiskType, SchoolStatus
from shouwang.registry.forms import area_dropdowns, with_all_label
from shouwang.registry.models import Member


def page_widgets(form: forms.BaseForm) -> None:
    """Date pickers, number keyboards and text areas where a phone user needs them."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        elif isinstance(field, forms.DecimalField):
            field.widget.attrs.update({"inputmode": "decimal", "step": "0.01"})
        elif isinstance(field, forms.MultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, MeasureField):
            # Django's blank entry reads "---------".
            field.choices = [
                (value, _("请选择") if value == "" else label) for value, label in field.choices
            ]


def add_service_error(form: forms.BaseForm, exc: ApplicationError) -> None:
    """A service's refusal under the fields it names (``extra.fields``), else above the form.
    The posted input stays in the form."""
    placed = False
    for name, texts in (exc.extra.get("fields") or {}).items():
        if name in form.fields:
            for text in texts:
                form.add_error(name, text)
            placed = True
    if not placed and exc.message not in form.errors.get(NON_FIELD_ERRORS, []):
        form.add_error(None, exc.message)


class MeasureField(forms.ChoiceField):
    """A catalogue measure, offered grouped under its measure group; cleans to the Measure."""

    def __init__(self, *, measures: Iterable[Measure], **kwargs: Any) -> None:
        self.by_pk = {str(m.pk): m for m in measures}
        grouped: dict[str, list[tuple[str, str]]] = {}
        for measure in self.by_pk.values():
            label = measure.name if measure.active else f"{measure.name}（{_('已停用')}）"
            grouped.setdefault(measure.group.name, []).append((str(measure.pk), label))
        kwargs.setdefault("label", _("帮扶措施"))
        super().__init__(choices=[("", _("请选择措施")), *grouped.items()], **kwargs)

    def clean(self, value: Any) -> Measure | None:
        value = super().clean(value)
        return self.by_pk.get(value) if value else None

    def prepare_value(self, value: Any) -> Any:
        return str(value.pk) if isinstance(value, Measure) else value


# --- lists -------------------------------------------------------------------------------


def measure_filter_form(
    form: forms.Form, *, actor: User | None, department_officer: bool, overdue_page: bool
) -> forms.Form:
    """Adapt a PlanMeasureFilterSet form for the measure lists; call before ``qs``.

    A department officer's list holds their department only, so that dropdown goes; the
    overdue page is overdue already.
    """
    area_dropdowns(form, actor=actor)
    for name in ("status", "department", "source"):
        form.fields[name].widget.choices = with_all_label(form.fields[name].choices, _("全部"))
    form.fields["group"].empty_label = _("全部")
    form.fields["overdue"].widget = forms.Select(
        choices=[("", _("全部")), ("true", _("仅看逾期")), ("false", _("未逾期"))]
    )
    form.fields["overdue"].label = _("是否逾期")
    form.fields["household_id"].widget = forms.HiddenInput()
    form.fields.pop("measure_id", None)
    if department_officer:
        form.fields.pop("department", None)
    if overdue_page:
        form.fields.pop("overdue", None)
        form.fields["status"].widget.choices = with_all_label(
            [(s.value, s.label) for s in MeasureStatus if s in OPEN_MEASURE_STATUSES], _("全部")
        )
    return form


# --- a household's plan ------------------------------------------------------------------


def _department_choices(blank: Any = None) -> list[tuple[str, Any]]:
    choices = list(Department.choices)
    return [("", blank), *choices] if blank is not None else choices


class ProposalForm(forms.Form):
    """The editable part of one proposed measure, before the cadre accepts it."""

    department = forms.ChoiceField(label=_("责任部门"), choices=_department_choices())
    responsible_person = forms.CharField(label=_("责任人"), max_length=50, required=False)
    planned_end = forms.DateField(label=_("计划完成日期"))
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=12, decimal_places=2, min_value=0, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        page_widgets(self)


def proposal_initial(measure: Measure, today: dt.date) -> dict[str, Any]:
    return {
        "department": measure.department,
        "planned_end": today + dt.timedelta(days=services.DEFAULT_PLAN_DAYS),
    }


class AddMeasureForm(forms.Form):
    """A measure the cadre adds by hand from the catalogue."""

    department = forms.ChoiceField(
        label=_("责任部门"),
        required=False,
        choices=_department_choices(_("（按措施目录）")),
    )
    responsible_person = forms.CharField(label=_("责任人"), max_length=50, required=False)
    planned_start = forms.DateField(label=_("计划开始日期"), required=False)
    planned_end = forms.DateField(label=_("计划完成日期"), required=False)
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    status_note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(
        self, *args: Any, measures: Iterable[Measure], members: Iterable[Member], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        self.fields = {
            "measure": MeasureField(
                measures=measures, error_messages={"required": _("请选择要添加的措施")}
            ),
            "member": forms.ChoiceField(
                label=_("受益成员"),
                required=False,
                choices=[("", _("（全户）"))] + [(pk, m.name) for pk, m in self.members.items()],
            ),
            **self.fields,
        }
        self.fields["planned_start"].help_text = _("不填为今天")
        self.fields["planned_end"].help_text = _("不填为开始后 %(days)d 天") % {
            "days": services.DEFAULT_PLAN_DAYS
        }
        page_widgets(self)

    def item(self) -> dict[str, Any]:
        """The measure as plan_accept takes it."""
        data = dict(self.cleaned_data)
        data["member"] = self.members.get(data.get("member") or "")
        return {key: value for key, value in data.items() if value not in (None, "")}


# --- one plan measure --------------------------------------------------------------------


class PlanMeasureEditForm(forms.Form):
    """What a planner may change on a measure still owed (services.PLAN_MEASURE_FIELDS)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(PlanMeasure, fields=services.PLAN_MEASURE_FIELDS))
        self.fields["status_note"].label = _("备注")
        page_widgets(self)

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.PLAN_MEASURE_FIELDS}


def plan_measure_initial(pm: PlanMeasure, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(pm, name) for name in names}


def flag_question(name: str) -> str:
    """The question a delivery asks about a registry flag: 住房安全有保障 → 落实后该户住房安全
    是否已有保障？"""
    label = services.flag_label(name)
    topic = label.removesuffix("有保障")
    if topic == label:
        return _("落实后该户“%(flag)s”是否属实？") % {"flag": label}
    return _("落实后该户%(topic)s是否已有保障？") % {"topic": topic}


def _yes(value: Any) -> bool:
    return value == "yes"


class DeliveryForm(forms.Form):
    """A delivery update: the new status with the actual dates and amounts, and, when the
    measure answers a risk the registry records as a yes/no fact (``flags``: name → the
    registry's value now), whether the household is secure after delivery."""

    def __init__(
        self, *args: Any, current: str, flags: dict[str, bool] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        status = MeasureStatus(current)
        allowed = [status] if status in OPEN_MEASURE_STATUSES else []
        allowed += [s for s in MeasureStatus if s in STATUS_MOVES[status]]
        self.fields["status"] = forms.ChoiceField(
            label=_("落实状态"), choices=[(s.value, s.label) for s in allowed]
        )
        self.fields.update(forms.fields_for_model(PlanMeasure, fields=services.PROGRESS_FIELDS))
        self.fields["status_note"].help_text = _("终止措施时须说明原因")
        self.fields["actual_end"].help_text = _("标记已落实时不填为今天")
        page_widgets(self)
        self.flag_names = tuple(flags or ())
        for name, value in (flags or {}).items():
            label = services.flag_label(name)
            self.fields[name] = forms.TypedChoiceField(
                label=flag_question(name),
                choices=[
                    ("yes", _("是，%(flag)s") % {"flag": label}),
                    ("no", _("否，仍无保障")),
                ],
                coerce=_yes,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                initial="yes" if value else "no",
                help_text=_("农户档案“%(flag)s”现为“%(now)s”；标记为已落实时按所选更新农户档案")
                % {"flag": label, "now": _("是") if value else _("否")},
            )

    @property
    def progress_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.flag_names]

    @property
    def flag_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.flag_names]

    def _delivering(self) -> bool:
        return self.cleaned_data.get("status") == MeasureStatus.DELIVERED

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self._delivering():
            for name in self.flag_names:
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, _("请回答：%(q)s") % {"q": flag_question(name)})
        return cleaned

    def progress_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.PROGRESS_FIELDS}

    def registry_flags(self) -> dict[str, bool] | None:
        """The registry facts confirmed, when marking delivered; None otherwise."""
        if not self.flag_names or not self._delivering():
            return None
        return {name: self.cleaned_data[name] for name in self.flag_names}


class BulkDeliveryForm(forms.Form):
    """One delivery for the measures ticked on a list page: a status, a date and a note.
    The ticked measures come as ``pm`` values (their ids); the service checks each one."""

    status = forms.ChoiceField(
        label=_("登记为"),
        choices=[(s.value, s.label) for s in MeasureStatus if s in services.BULK_STATUSES],
        initial=MeasureStatus.DELIVERED,
    )
    on = forms.DateField(
        label=_("日期"),
        required=False,
        help_text=_("已落实为实际完成日期，实施中为实际开始日期；不填为今天"),
    )
    note = forms.CharField(
        label=_("落实情况说明"),
        max_length=200,
        required=False,
        help_text=_("填写后替换所选措施原有的说明"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        page_widgets(self)

    def selected_ids(self) -> list[int]:
        """The ticked measures' ids, as posted (anything not a number left out)."""
        if not self.is_bound:
            return []
        values = self.data.getlist("pm") if hasattr(self.data, "getlist") else []
        return [int(v) for v in values if str(v).isdigit()]

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        on = self.cleaned_data.get("on")
        if on is not None:
            delivered = self.cleaned_data["status"] == MeasureStatus.DELIVERED
            data["actual_end" if delivered else "actual_start"] = on
        note = (self.cleaned_data.get("note") or "").strip()
        if note:
            data["status_note"] = note
        return data


# --- catalogue and rules -----------------------------------------------------------------


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose values a service saves; blank dropdown entries read 请选择."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = _("请选择")
        page_widgets(self)

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class MeasureGroupForm(ServiceModelForm):
    covers_risk_types = forms.MultipleChoiceField(
        label=_("对应风险类型"), choices=RiskType.choices, required=False
    )

    class Meta:
        model = MeasureGroup
        fields = services.GROUP_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MeasureForm(ServiceModelForm):
    class Meta:
        model = Measure
        fields = services.MEASURE_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class RuleForm(ServiceModelForm):
    risk_types = forms.MultipleChoiceField(
        label=_("风险类型（任一）"),
        choices=RiskType.choices,
        required=False,
        help_text=_("不选则不限风险类型"),
    )
    member_school_statuses = forms.MultipleChoiceField(
        label=_("成员在校生状况（任一）"), choices=SchoolStatus.choices, required=False
    )
    member_health_statuses = forms.MultipleChoiceField(
        label=_("成员健康状况（任一）"), choices=HealthStatus.choices, required=False
    )
    member_labour_skills = forms.MultipleChoiceField(
        label=_("成员劳动技能（任一）"), choices=LabourSkill.choices, required=False
    )

    #: The form's groups on the page: (title, field names).
    sections = (
        (_("规则"), ("name", "priority", "active", "measure", "description")),
        (_("家庭条件"), ("risk_types", "household_labour", "only_without_development")),
        (
            _("成员条件（设置任一项时，须至少有一名成员同时符合）"),
            (
                "member_age_min",
                "member_age_max",
                "member_health_statuses",
                "member_school_statuses",
                "member_labour_skills",
                "per_member",
            ),
        ),
    )

    class Meta:
        model = RecommendationRule
        fields = services.RULE_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, measures: Iterable[Measure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measure"] = MeasureField(measures=measures, label=_("推荐措施"))

    def grouped(self):
        for title, names in self.sections:
            yield str(title), [self[name] for name in names]
