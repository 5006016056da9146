"""What each step records, as forms: services validate a step's data with them and store the
cleaned values on the transition; pages render the same forms.

Names match ``workflow.Record``; each form's ``as_record`` gives the JSON-safe dict kept on the
``CaseTransition``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shouwang.cases.choices import CaseKind, ReviewResult
from shouwang.cases.workflow import Record, Transition
from shouwang.registry.choices import EliminationMethod, MonitoringCategory, RiskType

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal(0)}
MAX_RISK_TYPES = 5


class StepRecordForm(forms.Form):
    def as_record(self) -> dict[str, Any]:
        """Cleaned data as JSON: dates as ISO text, decimals as text, lists as they are."""
        record: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            record[name] = value
        return record


class ApplicationRecord(StepRecordForm):
    applicant_name = forms.CharField(label=_("申请人"), max_length=50)
    applied_on = forms.DateField(label=_("申请日期"))
    pledge_signed = forms.BooleanField(
        label=_("已签署承诺书（如实申报家庭收入、财产）"),
        error_messages={"required": _("农户须签署承诺书")},
    )
    asset_check_consent = forms.BooleanField(
        label=_("同意授权核查家庭存款、车辆、住房等资产"),
        error_messages={"required": _("农户须同意授权核查家庭资产")},
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=2000)


class NominationRecord(StepRecordForm):
    method = forms.ChoiceField(label=_("消除方式"), choices=EliminationMethod.choices)
    note = forms.CharField(label=_("提名理由"), max_length=2000)


class HomeVisitRecord(StepRecordForm):
    """The home visit: who went, the household's last 12 months of income and compliant
    out-of-pocket spending, what was found, and (identification) the proposal."""

    visited_on = forms.DateField(label=_("核实日期"))
    visitors = forms.CharField(label=_("核实人员"), max_length=200)
    member_count = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=50)
    wage_income = forms.DecimalField(label=_("工资性收入（元）"), **MONEY)
    operating_income = forms.DecimalField(label=_("生产经营性收入（元）"), **MONEY)
    property_income = forms.DecimalField(label=_("财产性收入（元）"), **MONEY)
    transfer_income = forms.DecimalField(label=_("转移性收入（元）"), **MONEY)
    productive_expenses = forms.DecimalField(label=_("生产经营性支出（元）"), **MONEY)
    compliant_out_of_pocket = forms.DecimalField(
        label=_("合规自付支出（元）"),
        help_text=_("近 12 个月医疗、教育等刚性支出中按政策可扣除的自付部分"),
        **MONEY,
    )
    findings = forms.CharField(label=_("核实情况"), max_length=4000)
    household_number = forms.CharField(
        label=_("户编号"),
        max_length=32,
        required=False,
        help_text=_("该户尚未建档时，先在农户档案中登记，再填写其户编号"),
    )
    proposed_category = forms.ChoiceField(
        label=_("拟定监测类别"), choices=[("", "—"), *MonitoringCategory.choices], required=False
    )
    proposed_risk_types = forms.MultipleChoiceField(
        label=_("拟定风险类型"), choices=RiskType.choices, required=False
    )

    def clean_proposed_risk_types(self) -> list[str]:
        risks = self.cleaned_data["proposed_risk_types"]
        if len(risks) > MAX_RISK_TYPES:
            raise ValidationError(_("风险类型最多 %(n)d 项") % {"n": MAX_RISK_TYPES})
        return risks

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parts = (
            "wage_income",
            "operating_income",
            "property_income",
            "transfer_income",
            "productive_expenses",
            "compliant_out_of_pocket",
        )
        if all(data.get(p) is not None for p in parts) and data.get("member_count"):
            income = sum(data[p] for p in parts[:4]) - data["productive_expenses"]
            data["net_income"] = income
            data["per_capita_net_income"] = (income / data["member_count"]).quantize(
                Decimal("0.01")
            )
            # The figure compared with the monitoring line: income less compliant spending.
            data["per_capita_after_spending"] = (
                (income - data["compliant_out_of_pocket"]) / data["member_count"]
            ).quantize(Decimal("0.01"))
        return data


class HomeVisitIdentificationRecord(HomeVisitRecord):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("proposed_category"):
            self.add_error("proposed_category", _("请选择拟定的监测类别"))
        if not data.get("proposed_risk_types"):
            self.add_error("proposed_risk_types", _("请至少选择一项风险类型"))
        return data


class VillageReviewRecord(StepRecordForm):
    met_on = forms.DateField(label=_("评议日期"))
    attendees = forms.CharField(
        label=_("参会人员"),
        max_length=2000,
        help_text=_("村“两委”成员、驻村工作队、党员和村民代表等，用顿号或逗号分隔"),
    )
    attendee_count = forms.IntegerField(label=_("参会人数"), min_value=3, max_value=500)
    result = forms.ChoiceField(label=_("评议结果"), choices=ReviewResult.choices)
    note = forms.CharField(label=_("评议意见"), max_length=4000)


class ObjectionRecord(StepRecordForm):
    received_on = forms.DateField(label=_("收到异议日期"))
    content = forms.CharField(label=_("异议内容"), max_length=4000)


class OpinionRecord(StepRecordForm):
    opinion = forms.CharField(label=_("审核意见"), max_length=4000)


class DecisionRecord(StepRecordForm):
    decided_on = forms.DateField(label=_("审定日期"))
    note = forms.CharField(label=_("审定意见"), max_length=4000)


class ReasonRecord(StepRecordForm):
    reason = forms.CharField(label=_("说明"), max_length=2000, required=False)


class RequiredReasonRecord(StepRecordForm):
    reason = forms.CharField(
        label=_("原因"), max_length=2000, error_messages={"required": _("请说明原因")}
    )


RECORD_FORMS: dict[str, type[StepRecordForm]] = {
    Record.APPLICATION: ApplicationRecord,
    Record.NOMINATION: NominationRecord,
    Record.HOME_VISIT: HomeVisitRecord,
    Record.VILLAGE_REVIEW: VillageReviewRecord,
    Record.OBJECTION: ObjectionRecord,
    Record.OPINION: OpinionRecord,
    Record.DECISION: DecisionRecord,
    Record.REASON: ReasonRecord,
    Record.REQUIRED_REASON: RequiredReasonRecord,
}


def record_form_class(kind: str, transition: Transition) -> type[StepRecordForm]:
    """The form ``transition`` records with in a case of ``kind``: an identification's home
    visit must also propose the category and risk types."""
    if transition.record == Record.HOME_VISIT and kind == CaseKind.IDENTIFICATION:
        return HomeVisitIdentificationRecord
    return RECORD_FORMS[transition.record]
