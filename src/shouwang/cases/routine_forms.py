"""Page forms of the routine work. They parse input; ``routine_services`` decides and writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.cases import routine_selectors as sel
from shouwang.cases.routine_choices import (
    AgendaKind,
    CheckResult,
    MemberAdditionReason,
    MemberRemovalReason,
)
from shouwang.cases.routine_services import MemberAddition, MemberRemoval
from shouwang.core.exceptions import ApplicationError
from shouwang.core.months import is_month
from shouwang.registry import choices as rc
from shouwang.registry.models import Member


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def parse_month(value: str | None) -> str:
    """``YYYY-MM`` (the month input) or ``YYYYMM`` as ``YYYYMM``; "" when neither."""
    text = (value or "").strip().replace("-", "")
    return text if is_month(text) else ""


def recent_quarters(today: dt.date, count: int = 8) -> list[tuple[str, str]]:
    quarters = []
    year, number = today.year, (today.month - 1) // 3 + 1
    for _step in range(count):
        quarter = f"{year}Q{number}"
        quarters.append((quarter, sel.quarter_label(quarter)))
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
    return quarters


def add_service_error(form: forms.Form, exc: ApplicationError, renames: dict[str, str]) -> None:
    """A service's refusal under the field it names (``extra.errors``), or above the form."""
    errors = exc.extra.get("errors") or {}
    placed = False
    for name, messages in errors.items():
        field = renames.get(name, name)
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --- monthly meeting ---------------------------------------------------------------------


def decision_field_name(kind: str) -> str:
    return f"decision_{kind}"


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("召开日期"), widget=_date_input())
    attendees = forms.CharField(
        label=_("参会人员"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("参会人员姓名，用顿号或逗号分隔；人数按姓名自动统计。已按上次会议填好，请核对"),
    )
    summary = forms.CharField(
        label=_("会议纪要"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, agenda: list[sel.AgendaEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agenda = agenda
        for entry in agenda:
            # As the service decides: an item with something in it, and the monitor's
            # report, need the meeting's decision; an empty item reads "无".
            needed = bool(entry.count) or entry.kind == AgendaKind.MONITOR_REPORT
            self.fields[decision_field_name(entry.kind)] = forms.CharField(
                label=_("研究意见"),
                required=needed,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="" if needed else _("本项无内容，可不填（记为“无”）"),
                error_messages={
                    "required": _("请填写“%(item)s”的研究意见") % {"item": entry.label}
                },
            )

    def decisions(self) -> dict[str, str]:
        return {
            entry.kind: self.cleaned_data.get(decision_field_name(entry.kind), "")
            for entry in self.agenda
        }

    def agenda_rows(self) -> list[tuple[sel.AgendaEntry, forms.BoundField]]:
        return [(entry, self[decision_field_name(entry.kind)]) for entry in self.agenda]

    @staticmethod
    def renames() -> dict[str, str]:
        return {kind: decision_field_name(kind) for kind in sel.AgendaKind.values}


# --- quarterly review --------------------------------------------------------------------

YES_NO = [("yes", _("是")), ("no", _("否"))]
PLAN = [("fits", _("方案合适，继续执行")), ("change", _("需要调整"))]


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("研判日期"), widget=_date_input())
    risk_present = forms.ChoiceField(
        label=_("风险是否仍然存在"), choices=YES_NO, widget=forms.RadioSelect
    )
    plan = forms.ChoiceField(label=_("帮扶方案"), choices=PLAN, widget=forms.RadioSelect)
    reviewers = forms.CharField(
        label=_("研判人员"),
        max_length=200,
        help_text=_("村“两委”干部、驻村工作队员等"),
    )
    note = forms.CharField(
        label=_("研判意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("方案需要调整时写明如何调整"),
    )

    def service_input(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reviewed_on": data["reviewed_on"],
            "risk_present": data["risk_present"] == "yes",
            "plan_needs_change": data["plan"] == "change",
            "reviewers": data["reviewers"],
            "note": data["note"],
        }

    RENAMES = {"plan_needs_change": "plan"}


# --- yearly campaign ---------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    scope = forms.ModelChoiceField(label=_("排查范围"), queryset=None, empty_label=None)
    starts_on = forms.DateField(label=_("开始日期"), widget=_date_input())
    ends_on = forms.DateField(label=_("结束日期"), widget=_date_input())
    note = forms.CharField(
        label=_("工作要求"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, scopes: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].queryset = scopes
        self.fields["scope"].label_from_instance = lambda d: (
            f"{d.name}（{_('全区') if d.level == 3 else _('乡镇（街道）')}）"
        )


RELATIONS_FOR_NEW = [
    (value, label) for value, label in rc.Relation.choices if value != rc.Relation.HEAD
]


class NewMemberForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("增加原因"), choices=[("", "—"), *MemberAdditionReason.choices], required=False
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("身份证号码"), max_length=18, required=False)
    relation = forms.ChoiceField(label=_("与户主关系"), choices=RELATIONS_FOR_NEW, required=False)
    education = forms.ChoiceField(
        label=_("文化程度"), choices=rc.Education.choices, initial=rc.Education.PRESCHOOL
    )
    labour_skill = forms.ChoiceField(
        label=_("劳动技能"), choices=rc.LabourSkill.choices, initial=rc.LabourSkill.NONE
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        filled = [data.get(k) for k in ("reason", "name", "id_number")]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("新增成员请填写增加原因、姓名和身份证号码"))
        return data

    def addition(self) -> MemberAddition | None:
        data = self.cleaned_data
        if not data.get("reason"):
            return None
        return MemberAddition(
            reason=data["reason"],
            name=data["name"],
            id_number=data["id_number"],
            relation=data["relation"] or rc.Relation.OTHER,
            education=data["education"],
            labour_skill=data["labour_skill"],
        )


NewMemberFormSet = forms.formset_factory(NewMemberForm, extra=2, max_num=10)


class CheckForm(forms.Form):
    checked_on = forms.DateField(label=_("排查日期"), widget=_date_input())
    checker = forms.CharField(label=_("排查人"), max_length=100)
    result = forms.ChoiceField(
        label=_("排查结果"), choices=CheckResult.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("情况说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("有变化或发现新风险时必填；发现新风险会生成一条线索"),
    )
    new_head = forms.ChoiceField(label=_("新户主"), required=False)

    def __init__(self, *args: Any, members: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        self.fields["new_head"].choices = [("", _("（户主未减少，不变）"))] + [
            (str(m.pk), m.name) for m in members if m.relation != rc.Relation.HEAD
        ]
        for member in members:
            self.fields[f"leave_{member.pk}"] = forms.ChoiceField(
                label=member.name,
                required=False,
                choices=[("", _("在户")), *MemberRemovalReason.choices],
            )

    def member_rows(self) -> list[tuple[Member, forms.BoundField]]:
        return [(m, self[f"leave_{m.pk}"]) for m in self.members]

    def removals(self) -> list[MemberRemoval]:
        return [
            MemberRemoval(member_id=m.pk, reason=self.cleaned_data[f"leave_{m.pk}"])
            for m in self.members
            if self.cleaned_data.get(f"leave_{m.pk}")
        ]

    def new_head_id(self) -> int | None:
        value = self.cleaned_data.get("new_head")
        return int(value) if value else None
