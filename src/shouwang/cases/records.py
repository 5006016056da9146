"""What each step records, as forms: services validate a step's data with them and store the
cleaned values on the transition; pages render the same forms.

Names match ``workflow.Record``; each form's ``as_record`` gives the JSON-safe dict kept on the
``CaseTransition``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.cases.choices import CaseKind
from shouwang.cases.workflow import Record, Transition
from shouwang.core import crypto
from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.registry.choices import (
    RISK_REGISTRY_FLAGS,
    DisabilityGrade,
    Education,
    EliminationMethod,
    Ethnicity,
    HealthStatus,
    LabourSkill,
    MonitoringCategory,
    Relation,
    RiskType,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal(0)}
MAX_RISK_TYPES = 5
#: The visit's income figures, as the registry's household fields of the same names.
INCOME_PARTS = (
    "wage_income",
    "operating_income",
    "property_income",
    "transfer_income",
    "productive_expenses",
    "compliant_out_of_pocket",
)


class HouseholdSource(models.TextChoices):
    """How the home visit of a household not yet in the registry finds its record."""

    NEW = "new", _("在农户档案中登记该户")
    EXISTING = "existing", _("该户已建档，按户编号关联")


class HouseholdLink(models.TextChoices):
    """How the visit linked the case to its household (kept on the step's record)."""

    REGISTERED = "registered", _("入户核实时新登记")
    BY_ID_NUMBER = "by_id_number", _("户主身份证号码已登记，关联已建档农户")
    BY_NUMBER = "by_number", _("按户编号关联已建档农户")


@dataclass(frozen=True)
class FieldGroup:
    """Fields a page shows together; a titled group is a fieldset."""

    fields: list[forms.BoundField]
    title: str = ""
    note: str = ""
    css: str = ""


@dataclass(frozen=True)
class HouseholdRegistration:
    """What the home visit of a household not yet in the registry gives the services. The ID
    and phone numbers are plain text here only; the step's record keeps masked copies."""

    source: str
    household_number: str
    #: Blank: the number the lead recorded.
    id_number: str = ""
    phone: str = ""
    #: The head's registry fields (registry.services.member_create's ``data``).
    member: dict[str, Any] = field(default_factory=dict)


class StepRecordForm(forms.Form):
    def groups(self) -> list[FieldGroup]:
        """The fields as the page shows them: one untitled group unless a form says more."""
        return [FieldGroup(list(self))]

    def registration(self) -> HouseholdRegistration | None:
        """The household a valid form registers or links; None for most records."""
        return None

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


#: The fields of a household's registration at the home visit, in the order shown.
REGISTRATION_FIELDS = ("household_source", "household_number")
HEAD_FIELDS = (
    "head_name",
    "head_id_number",
    "head_ethnicity",
    "head_education",
    "head_health_status",
    "head_disability_grade",
    "head_labour_skill",
    "phone",
)
#: Fields a new household's registration needs, with what to say when one is missing.
HEAD_REQUIRED = {
    "head_name": _("请填写户主姓名"),
    "head_id_number": _("请填写户主身份证号码"),
    "head_ethnicity": _("请选择户主民族"),
    "head_education": _("请选择户主文化程度"),
    "head_health_status": _("请选择户主健康状况"),
    "head_labour_skill": _("请选择户主劳动技能"),
}


PLEASE_CHOOSE = _("请选择")
SECURE_CHOICES = [("yes", _("是，有保障")), ("no", _("否，仍无保障"))]
#: The registry flags a home visit may confirm.
VISIT_FLAGS = tuple(dict.fromkeys(RISK_REGISTRY_FLAGS.values()))


def _yes(value: Any) -> bool:
    return value in (True, "yes", "true", "True", "1", 1)


def _choices(choices: list[tuple[str, str]], blank: Any = PLEASE_CHOOSE) -> list[tuple[str, Any]]:
    return [("", blank), *choices]


class HomeVisitRecord(StepRecordForm):
    """The home visit: who went, the household's last 12 months of income and compliant
    out-of-pocket spending, what was found, and (identification) the proposal.

    A case about a household not yet in the registry (``registering``) also records the
    household: either its existing number, or what the registry needs to register it with
    its head (the other members are added on the registry's pages). ``known_id_number`` and
    ``known_phone`` are the lead's masked numbers, used when those fields are left blank.
    """

    #: Which fields are required depends on the choice between registering and linking the
    #: household, made on the same form: the services say what is missing, under each field.
    use_required_attribute = False

    visited_on = forms.DateField(label=_("核实日期"))
    visitors = forms.CharField(label=_("核实人员"), max_length=200, help_text=_("多人用顿号分隔"))
    member_count = forms.IntegerField(
        label=_("家庭人口"),
        min_value=1,
        max_value=50,
        required=False,
        help_text=_("该户尚未建档时填写；已建档的户按农户档案中的成员计算"),
    )
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
    # Risk flags the registry holds, confirmed at an elimination visit ("flags" below).
    housing_secure = forms.TypedChoiceField(
        label=_("住房安全有保障"),
        choices=SECURE_CHOICES,
        coerce=_yes,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("风险消除入户核实时确认；保存后更新农户档案"),
    )
    drinking_water_secure = forms.TypedChoiceField(
        label=_("饮水安全有保障"),
        choices=SECURE_CHOICES,
        coerce=_yes,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("风险消除入户核实时确认；保存后更新农户档案"),
    )
    # A household not yet in the registry.
    household_source = forms.ChoiceField(
        label=_("建档方式"),
        choices=HouseholdSource.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("该户尚未建档时必填"),
        error_messages={"required": _("请选择登记该户或关联已建档的农户")},
    )
    household_number = forms.CharField(
        label=_("户编号"),
        max_length=32,
        required=False,
        help_text=_("新登记的户填写防返贫监测信息系统分配的户编号；已建档的户填写其现有户编号"),
        error_messages={"required": _("请填写户编号")},
    )
    head_name = forms.CharField(label=_("户主姓名"), max_length=50, required=False)
    head_id_number = forms.CharField(label=_("户主身份证号码"), max_length=32, required=False)
    head_ethnicity = forms.ChoiceField(
        label=_("户主民族"), choices=_choices(Ethnicity.choices), required=False
    )
    head_education = forms.ChoiceField(
        label=_("户主文化程度"), choices=_choices(Education.choices), required=False
    )
    head_health_status = forms.ChoiceField(
        label=_("户主健康状况"), choices=_choices(HealthStatus.choices), required=False
    )
    head_disability_grade = forms.ChoiceField(
        label=_("户主残疾等级"),
        choices=_choices(DisabilityGrade.choices, _("（不填）")),
        required=False,
        help_text=_("健康状况为残疾时填写"),
    )
    head_labour_skill = forms.ChoiceField(
        label=_("户主劳动技能"), choices=_choices(LabourSkill.choices), required=False
    )
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    def __init__(
        self,
        *args: Any,
        registering: bool = False,
        known_id_number: str = "",
        known_phone: str = "",
        member_count: int | None = None,
        flags: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registering = registering
        self.known_id_number = known_id_number
        self.known_phone = known_phone
        #: A registered household's size is its members in the registry: not asked again.
        self.registered_member_count = member_count
        if member_count is not None:
            del self.fields["member_count"]
        else:
            self.fields["member_count"].required = True
        for name in VISIT_FLAGS:
            if name in flags:
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = _("请按入户所见确认")
            else:
                del self.fields[name]
        if not registering:
            for name in (*REGISTRATION_FIELDS, *HEAD_FIELDS):
                del self.fields[name]
            return
        self.fields["household_source"].required = True
        self.fields["household_source"].help_text = ""  # the form's own group says when
        self.fields["household_number"].required = True
        if self.source() != HouseholdSource.EXISTING:
            for name, message in HEAD_REQUIRED.items():
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = message
        id_field, phone_field = self.fields["head_id_number"], self.fields["phone"]
        id_field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        phone_field.widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        if known_id_number:
            # The lead's number is not shown in full: left blank, the service takes it.
            id_field.required = False
            id_field.widget.attrs["placeholder"] = known_id_number
            id_field.help_text = _("留空则使用线索登记的号码 %(masked)s") % {
                "masked": known_id_number
            }
        if known_phone:
            phone_field.widget.attrs["placeholder"] = known_phone
            phone_field.help_text = _("留空则使用线索登记的号码 %(masked)s") % {
                "masked": known_phone
            }

    def source(self) -> str:
        """The chosen way to find the household: posted, else the form's initial choice."""
        if self.is_bound:
            return self.data.get(self.add_prefix("household_source"), "")
        return self.initial.get("household_source", HouseholdSource.NEW)

    def groups(self) -> list[FieldGroup]:
        registration = set(REGISTRATION_FIELDS) | set(HEAD_FIELDS)
        groups = [FieldGroup([self[n] for n in self.fields if n not in registration])]
        if self.registering:
            groups.append(
                FieldGroup(
                    [self[n] for n in REGISTRATION_FIELDS],
                    title=str(_("农户档案（该户尚未建档）")),
                    note=str(
                        _(
                            "入户核实时登记该户：户类型为一般农户，所在村为本流程所在村，"
                            "收入取本次核实的各项收入。"
                        )
                    ),
                )
            )
            groups.append(
                FieldGroup(
                    [self[n] for n in HEAD_FIELDS],
                    title=str(_("户主信息")),
                    note=str(
                        _(
                            "户主的性别和出生日期由身份证号码得出。该身份证号码已登记的，"
                            "直接关联其所在农户，不重复建档。登记后其他家庭成员请到农户档案页面添加。"
                        )
                    ),
                    css="registration-new",
                )
            )
        return groups

    def clean_head_id_number(self) -> str:
        raw = (self.cleaned_data.get("head_id_number") or "").strip()
        if not raw:
            return ""
        try:
            return parse_id_number(raw).value
        except IdNumberError as exc:
            raise ValidationError(str(exc)) from None

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
            raise ValidationError(_("联系电话应为 7 到 12 位数字"))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        size = self.registered_member_count or data.get("member_count")
        if all(data.get(p) is not None for p in INCOME_PARTS) and size:
            income = sum(data[p] for p in INCOME_PARTS[:4]) - data["productive_expenses"]
            data["member_count"] = size
            data["net_income"] = income
            data["per_capita_net_income"] = (income / size).quantize(Decimal("0.01"))
            # The figure compared with the monitoring line: income less compliant spending,
            # as Household.per_capita_after_spending computes it from the same fields.
            data["per_capita_after_spending"] = (
                (income - data["compliant_out_of_pocket"]) / size
            ).quantize(Decimal("0.01"))
        if self.registering and data.get("household_source") == HouseholdSource.NEW:
            health, grade = data.get("head_health_status"), data.get("head_disability_grade")
            if health == HealthStatus.DISABLED and not grade:
                self.add_error("head_disability_grade", _("健康状况为残疾时请选择残疾等级"))
            elif grade and health and health != HealthStatus.DISABLED:
                self.add_error("head_health_status", _("填写了残疾等级，健康状况应为残疾"))
        return data

    def registration(self) -> HouseholdRegistration | None:
        """The household to register or link, for a valid form of a case without one."""
        if not self.registering:
            return None
        data = self.cleaned_data
        if data["household_source"] == HouseholdSource.EXISTING:
            return HouseholdRegistration(HouseholdSource.EXISTING, data["household_number"].strip())
        return HouseholdRegistration(
            HouseholdSource.NEW,
            data["household_number"].strip(),
            id_number=data["head_id_number"],
            phone=data["phone"],
            member={
                "name": data["head_name"].strip(),
                "relation": Relation.HEAD,
                "ethnicity": data["head_ethnicity"],
                "education": data["head_education"],
                "health_status": data["head_health_status"],
                "disability_grade": data["head_disability_grade"],
                "labour_skill": data["head_labour_skill"],
            },
        )

    def as_record(self) -> dict[str, Any]:
        """As the base, with the ID and phone numbers masked: a step's record is shown on the
        case's page and in the API, where full numbers may not appear."""
        record = super().as_record()
        if self.registering and record.get("household_source") == HouseholdSource.EXISTING:
            for name in HEAD_FIELDS:
                record.pop(name, None)
        if record.get("head_id_number"):
            record["head_id_number"] = crypto.mask_id_number(record["head_id_number"])
        elif record.get("household_source") == HouseholdSource.NEW:
            record["head_id_number"] = self.known_id_number
        if record.get("phone"):
            record["phone"] = crypto.mask_phone(record["phone"])
        elif record.get("household_source") == HouseholdSource.NEW:
            record["phone"] = self.known_phone
        return record


class HomeVisitIdentificationRecord(HomeVisitRecord):
    """An identification's visit also proposes the category and the risk types."""

    proposed_category = forms.ChoiceField(
        label=_("拟定监测类别"), choices=[("", "—"), *MonitoringCategory.choices], required=False
    )
    proposed_risk_types = forms.MultipleChoiceField(
        label=_("拟定风险类型"), choices=RiskType.choices, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("proposed_category"):
            self.add_error("proposed_category", _("请选择拟定的监测类别"))
        if not data.get("proposed_risk_types"):
            self.add_error("proposed_risk_types", _("请至少选择一项风险类型"))
        return data


#: A village review needs at least this many participants.
MIN_REVIEW_ATTENDEES = 3


def attendee_names(text: str) -> list[str]:
    """The people a list of attendees names, split at 、，,；; and line breaks."""
    return [name for name in re.split(r"[、，,；;\s]+", text or "") if name]


class VillageReviewRecord(StepRecordForm):
    """The village's democratic review. Agreeing or not is the button pressed (评议通过 or
    评议未通过), and the number of participants is counted from their names."""

    met_on = forms.DateField(label=_("评议日期"))
    attendees = forms.CharField(
        label=_("参会人员"),
        max_length=2000,
        help_text=_("村“两委”成员、驻村工作队、党员和村民代表等的姓名，用顿号或逗号分隔"),
    )
    note = forms.CharField(label=_("评议意见"), max_length=4000)

    def clean_attendees(self) -> str:
        names = attendee_names(self.cleaned_data["attendees"])
        if len(names) < MIN_REVIEW_ATTENDEES:
            raise ValidationError(
                _("村级评议至少 %(n)d 人参加，请逐一填写参会人员姓名（已填 %(m)d 人）")
                % {"n": MIN_REVIEW_ATTENDEES, "m": len(names)}
            )
        return "、".join(names)

    def as_record(self) -> dict[str, Any]:
        record = super().as_record()
        record["attendee_count"] = len(attendee_names(record["attendees"]))
        return record


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
    # The identification's visit: its fields are a superset of the elimination's.
    Record.HOME_VISIT: HomeVisitIdentificationRecord,
    Record.VILLAGE_REVIEW: VillageReviewRecord,
    Record.OBJECTION: ObjectionRecord,
    Record.OPINION: OpinionRecord,
    Record.DECISION: DecisionRecord,
    Record.REASON: ReasonRecord,
    Record.REQUIRED_REASON: RequiredReasonRecord,
}


def visit_flags(case: Any) -> tuple[str, ...]:
    """The registry flags an elimination visit confirms: those of the household's identified
    risks, and any that says the household is not secure."""
    household = case.household
    if case.kind != CaseKind.ELIMINATION or household is None:
        return ()
    wanted = {RISK_REGISTRY_FLAGS[r] for r in household.risk_types if r in RISK_REGISTRY_FLAGS}
    wanted |= {name for name in VISIT_FLAGS if not getattr(household, name)}
    return tuple(name for name in VISIT_FLAGS if name in wanted)


def record_form_options(case: Any, transition: Transition) -> dict[str, Any]:
    """What a record form needs to know of ``case`` besides the posted data: for the home
    visit of a registered household its size and the flags to confirm; of one not yet
    registered, that it registers the household, and the lead's masked numbers."""
    if transition.record != Record.HOME_VISIT:
        return {}
    if case.household_id is not None:
        return {"member_count": case.household.member_count or None, "flags": visit_flags(case)}
    lead = case.lead
    return {
        "registering": True,
        "known_id_number": lead.id_number_masked if lead is not None else "",
        "known_phone": lead.phone_masked if lead is not None else "",
    }


def record_form_class(kind: str, transition: Transition) -> type[StepRecordForm]:
    """The form ``transition`` records with in a case of ``kind``: an identification's home
    visit must also propose the category and risk types."""
    if transition.record == Record.HOME_VISIT and kind == CaseKind.ELIMINATION:
        return HomeVisitRecord
    return RECORD_FORMS[transition.record]
