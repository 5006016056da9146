"""Serializers of the leads and cases API.

As elsewhere they check types and shapes only: the cases services decide, and a workflow
step's record is validated by the step's form in ``cases.records`` (through
``services.case_act``), so the API answers with the same Chinese messages as the pages. The
record serializers below are built from those forms to document each step's body in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shouwang.api.screening_serializers import AlertDetailSerializer
from shouwang.api.serializers import DIVISION_CODE
from shouwang.cases import services, workflow
from shouwang.cases.choices import AttachmentKind, CaseKind
from shouwang.cases.lead_forms import CADRE_CHANNELS, PHONE_PATTERN
from shouwang.cases.models import Case, CaseAttachment, CaseTransition, Lead
from shouwang.cases.records import RECORD_FORMS
from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.core.models import Division, User
from shouwang.registry.choices import MonitoringCategory
from shouwang.registry.models import Household
from shouwang.registry.selectors import household_queryset, villages_for


def _user_name(user: User | None) -> str:
    return str(user) if user is not None else ""


def _actor(field: serializers.Field) -> User | None:
    """The requesting user, from the serializer's context (views pass the request)."""
    request = field.context.get("request")
    return getattr(request, "user", None)


# --- leads ----------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    household_number = serializers.CharField(
        source="household.household_number",
        read_only=True,
        default=None,
        allow_null=True,
        label=_("户编号"),
    )
    division_name = serializers.CharField(
        source="division.name", read_only=True, label=_("所在区划名称")
    )
    township_name = serializers.CharField(
        source="division.parent.name", read_only=True, default="", label=_("所属乡镇（街道）")
    )
    reported_by_name = serializers.SerializerMethodField(label=_("登记人"))
    cases = serializers.PrimaryKeyRelatedField(many=True, read_only=True, label=_("由此启动的流程"))

    class Meta:
        model = Lead
        fields = [
            "id",
            "channel",
            "channel_display",
            "status",
            "status_display",
            "household",
            "household_number",
            "division",
            "division_name",
            "township_name",
            "person_name",
            "id_number_masked",
            "phone_masked",
            "address",
            "description",
            "received_on",
            "reported_by",
            "reported_by_name",
            "reporter_name",
            "alert",
            "pledge_signed",
            "asset_check_consent",
            "tracking_code",
            "merged_into",
            "closed_reason",
            "handled_by",
            "handled_at",
            "cases",
            "created_at",
        ]
        read_only_fields = fields

    def get_reported_by_name(self, lead: Lead) -> str:
        return _user_name(lead.reported_by)


class VillageCodeField(serializers.SlugRelatedField):
    """A village by its 12-digit code, among the villages of the actor's area."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Division.objects.none(), **kwargs)

    def get_queryset(self):
        actor = _actor(self)
        return villages_for(actor=actor) if actor else Division.objects.none()

    def to_internal_value(self, data: Any) -> Division:
        if not isinstance(data, str) or not DIVISION_CODE.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class AreaHouseholdField(serializers.PrimaryKeyRelatedField):
    """A household id, among the households of the actor's area (others do not exist)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Household.objects.none(), **kwargs)

    def get_queryset(self):
        actor = _actor(self)
        if actor is None:
            return Household.objects.none()
        return household_queryset(actor=actor).select_related("village")


class LeadCreateSerializer(serializers.Serializer):
    """A registered household by id, or a person by name, ID number and village."""

    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in CADRE_CHANNELS],
        label=_("线索来源"),
        help_text=_("农户自主申报来自公开申报页面，部门筛查预警来自 /api/alerts/{id}/open-lead/"),
    )
    household = AreaHouseholdField(required=False, allow_null=True, label=_("农户"))
    person_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", label=_("姓名")
    )
    id_number = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        label=_("身份证号码"),
    )
    village = VillageCodeField(
        required=False, allow_null=True, label=_("所在村（社区）"), help_text=_("12 位区划代码")
    )
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", write_only=True
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reporter_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", label=_("报告人或来源")
    )
    description = serializers.CharField(max_length=4000, label=_("情况说明"))
    received_on = serializers.DateField(
        required=False, allow_null=True, default=None, label=_("发现日期"), help_text=_("默认今天")
    )

    def validate_id_number(self, value: str) -> str:
        value = "".join(value.split())
        if not value:
            return ""
        try:
            return parse_id_number(value).value
        except IdNumberError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_phone(self, value: str) -> str:
        value = "".join(value.split())
        if value and not PHONE_PATTERN.match(value):
            raise serializers.ValidationError(
                _("请填写 11 位手机号码，或带区号的固定电话（如 023-77712345）")
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("household") is None:
            missing = {
                name: [message]
                for name, message in (
                    ("person_name", _("未指定农户时请填写姓名")),
                    ("id_number", _("未指定农户时请填写身份证号码")),
                    ("village", _("未指定农户时请选择所在村（社区）")),
                )
                if not attrs.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class LeadCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, label=_("关闭原因"))


class LeadOpenCaseSerializer(serializers.Serializer):
    village = VillageCodeField(
        required=False,
        allow_null=True,
        label=_("所在村（社区）"),
        help_text=_("线索尚未定位到村时必填：12 位区划代码"),
    )
    green_channel = serializers.BooleanField(required=False, default=False, label=_("绿色通道"))
    green_channel_reason = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        label=_("绿色通道事由"),
        help_text=_("启用绿色通道时必填，如自然灾害、意外事故"),
    )


class AlertLeadSerializer(AlertDetailSerializer):
    """The alert after "open lead", with the lead it became."""

    lead = serializers.IntegerField(source="opened_lead_id", read_only=True, label=_("线索编号"))

    class Meta(AlertDetailSerializer.Meta):
        fields = [*AlertDetailSerializer.Meta.fields, "lead"]
        read_only_fields = fields


# --- cases ----------------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    step_number = serializers.SerializerMethodField(label=_("第几步（办结为空）"))
    step_count = serializers.SerializerMethodField(label=_("共几步"))
    step_label = serializers.SerializerMethodField(label=_("当前步骤名称"))
    household_number = serializers.CharField(
        source="household.household_number",
        read_only=True,
        default=None,
        allow_null=True,
        label=_("户编号"),
    )
    village_name = serializers.CharField(source="village.name", read_only=True)
    township_name = serializers.CharField(
        source="village.parent.name", read_only=True, default="", label=_("所属乡镇（街道）")
    )
    allowed_verbs = serializers.SerializerMethodField(
        label=_("您现在可执行的操作"), help_text=_("即 POST /api/cases/{id}/<操作>/ 的操作名")
    )
    # Declared: a read-only model field would lose its blank value from the schema's enum.
    proposed_category = serializers.ChoiceField(
        choices=MonitoringCategory.choices,
        allow_blank=True,
        read_only=True,
        label=_("拟定监测类别"),
        help_text=_("入户核实拟定之前为空"),
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "kind",
            "kind_display",
            "state",
            "state_display",
            "step_number",
            "step_count",
            "step_label",
            "household",
            "household_number",
            "village",
            "village_name",
            "township_name",
            "lead",
            "person_name",
            "opened_on",
            "due_on",
            "step_due_on",
            "next_due_on",
            "green_channel",
            "green_channel_reason",
            "notice_started_on",
            "notice_ends_on",
            "per_capita_net_income",
            "proposed_category",
            "proposed_risk_types",
            "elimination_method",
            "decided_month",
            "outcome_note",
            "closed_at",
            "allowed_verbs",
            "created_at",
        ]
        read_only_fields = fields

    def get_step_number(self, case: Case) -> int | None:
        index = workflow.step_index(case.kind, case.state)
        return None if index is None else index + 1

    def get_step_count(self, case: Case) -> int:
        return len(workflow.STEPS[case.kind])

    def get_step_label(self, case: Case) -> str:
        index = workflow.step_index(case.kind, case.state)
        return "" if index is None else workflow.STEPS[case.kind][index][0]

    def get_allowed_verbs(self, case: Case) -> list[str]:
        actor = _actor(self)
        if actor is None:  # no request: nobody to act
            return []
        return [
            t.verb
            for t in workflow.transitions_from(case.kind, case.state)
            if services.can_act(actor, case, t)
        ]


class CaseCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=CaseKind.choices,
        label=_("类型"),
        help_text=_("只能新建风险消除流程；识别流程由线索启动（/api/leads/{id}/open-case/）"),
    )
    household = AreaHouseholdField(label=_("农户"))

    def validate_kind(self, value: str) -> str:
        if value != CaseKind.ELIMINATION:
            raise serializers.ValidationError(
                _("监测对象识别须从线索启动：POST /api/leads/{id}/open-case/")
            )
        return value


class CaseAttachmentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    uploaded_by_name = serializers.SerializerMethodField(label=_("上传人"))

    class Meta:
        model = CaseAttachment
        fields = ["id", "kind", "kind_display", "title", "uploaded_by_name", "created_at"]
        read_only_fields = fields

    def get_uploaded_by_name(self, attachment: CaseAttachment) -> str:
        return _user_name(attachment.uploaded_by)


class CaseAttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, label=_("材料类型"))
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=100, label=_("附件说明")
    )
    file = serializers.FileField(label=_("文件"), help_text=_("JPG、PNG 图片或 PDF"))


class CaseTransitionSerializer(serializers.ModelSerializer):
    verb_display = serializers.CharField(source="get_verb_display", read_only=True)
    from_state_display = serializers.CharField(source="get_from_state_display", read_only=True)
    to_state_display = serializers.CharField(source="get_to_state_display", read_only=True)
    actor_name = serializers.SerializerMethodField(label=_("操作人"))

    class Meta:
        model = CaseTransition
        fields = [
            "id",
            "verb",
            "verb_display",
            "from_state",
            "from_state_display",
            "to_state",
            "to_state_display",
            "actor",
            "actor_name",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, step: CaseTransition) -> str:
        return _user_name(step.actor) or str(_("系统"))


# --- what each step records (schema only) ---------------------------------------------------


def _serializer_field(field: forms.Field) -> serializers.Field:
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    if field.help_text:
        common["help_text"] = field.help_text
    if isinstance(field, forms.MultipleChoiceField):
        return serializers.MultipleChoiceField(choices=field.choices, **common)
    if isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        return serializers.ChoiceField(choices=choices, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.DateField):
        return serializers.DateField(**common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value, **common
        )
    if isinstance(field, forms.DecimalField):
        return serializers.DecimalField(
            max_digits=field.max_digits,
            decimal_places=field.decimal_places,
            min_value=field.min_value,
            **common,
        )
    return serializers.CharField(
        max_length=field.max_length, allow_blank=not field.required, **common
    )


def record_body(data: Any, record: str) -> Mapping[str, Any]:
    """A step's body, checked for JSON types only: an object whose fields hold what the step's
    form can read (text, a number, yes/no, or a list for a multiple choice). The form judges
    the values; a date given as a list or a number would reach it as something it cannot read.
    """
    if isinstance(data, QueryDict):  # a form body holds only text
        return data
    if not isinstance(data, Mapping):
        raise serializers.ValidationError(_("请求体应为对象"))
    errors: dict[str, list[str]] = {}
    for name, field in RECORD_FORMS[record].base_fields.items():
        value = data.get(name)
        if isinstance(field, forms.MultipleChoiceField):
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                errors[name] = [str(_("应为文本的列表"))]
        elif isinstance(field, forms.DateField):
            if value is not None and not isinstance(value, str):
                errors[name] = [str(_("应为日期文本，如 2026-11-05"))]
        elif isinstance(value, (list, dict)):
            errors[name] = [str(_("应为单个值"))]
    if errors:
        raise serializers.ValidationError(errors)
    return data


@cache
def record_serializer(record: str) -> type[serializers.Serializer]:
    """A serializer with the fields of the step's record form, named after it."""
    form_class = RECORD_FORMS[record]
    fields = {name: _serializer_field(field) for name, field in form_class.base_fields.items()}
    return type(
        f"Case{form_class.__name__}",
        (serializers.Serializer,),
        {**fields, "__module__": __name__, "__doc__": form_class.__doc__ or ""},
    )
