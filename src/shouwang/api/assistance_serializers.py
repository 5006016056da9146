"""Serializers of the assistance API: the measure catalogue, recommendation rules, plans and
plan measures.

As elsewhere they check types and shapes only; the assistance services decide (roles, area,
whether a household may have a plan, which status moves are allowed) and answer in Chinese.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shouwang.api.serializers import IdField
from shouwang.assistance import permissions as perms
from shouwang.assistance.choices import OPEN_MEASURE_STATUSES, HouseholdLabour, MeasureStatus
from shouwang.assistance.models import (
    Measure,
    MeasureGroup,
    Plan,
    PlanMeasure,
    RecommendationRule,
)
from shouwang.assistance.services import (
    BULK_PROGRESS_LIMIT,
    can_update_delivery,
    delivery_flags,
    flag_label,
)
from shouwang.core.choices import Department
from shouwang.core.models import User
from shouwang.registry.choices import (
    RISK_REGISTRY_FLAGS,
    HealthStatus,
    LabourSkill,
    RiskType,
    SchoolStatus,
)
from shouwang.registry.models import Member
from shouwang.registry.selectors import member_queryset

#: Limits of the models' PositiveSmallIntegerField and DecimalField columns.
SMALL_INT_MAX = 32767


def _actor(field: serializers.Field) -> User | None:
    """The requesting user, from the serializer's context (views pass the request)."""
    request = field.context.get("request")
    return getattr(request, "user", None)


def _choice_list(choices: Any, **kwargs: Any) -> serializers.ListField:
    """A JSON list of choice values (risk types, school statuses, …)."""
    return serializers.ListField(child=serializers.ChoiceField(choices=choices), **kwargs)


def _labels(values: list[str], choices: Any) -> list[str]:
    labels = dict(choices.choices)
    return [str(labels.get(value, value)) for value in values]


def _amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label=_("金额（元）"), **kwargs
    )


def _quantity(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, label=_("数量"), **kwargs
    )


# --- catalogue ------------------------------------------------------------------------------


class GroupMeasureSerializer(serializers.ModelSerializer):
    """A measure as listed inside its group."""

    department_display = serializers.CharField(source="get_department_display", read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "name",
            "department",
            "department_display",
            "development",
            "backstop",
            "unit",
            "active",
        ]
        read_only_fields = fields


class MeasureGroupSerializer(serializers.ModelSerializer):
    covers_risk_types = _choice_list(RiskType.choices, read_only=True, label=_("对应风险类型"))
    covers_risk_types_display = serializers.SerializerMethodField(label=_("对应风险类型名称"))
    measures = GroupMeasureSerializer(many=True, read_only=True, label=_("措施（启用的在前）"))

    class Meta:
        model = MeasureGroup
        fields = [
            "id",
            "code",
            "name",
            "sort_order",
            "covers_risk_types",
            "covers_risk_types_display",
            "description",
            "measures",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_covers_risk_types_display(self, group: MeasureGroup) -> list[str]:
        return _labels(group.covers_risk_types, RiskType)


class MeasureGroupWriteSerializer(serializers.Serializer):
    """POST sends every field (those with a default may be left out); PATCH only what changes."""

    code = serializers.SlugField(
        max_length=32, label=_("代码"), help_text=_("小写字母、数字、连字符和下划线")
    )
    name = serializers.CharField(max_length=50, label=_("措施类别"))
    sort_order = serializers.IntegerField(
        min_value=0, max_value=SMALL_INT_MAX, required=False, default=0, label=_("排序")
    )
    covers_risk_types = _choice_list(
        RiskType.choices, required=False, default=list, label=_("对应风险类型")
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("说明")
    )


class MeasureSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="group.name", read_only=True, label=_("措施类别"))
    department_display = serializers.CharField(source="get_department_display", read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "group",
            "group_name",
            "name",
            "department",
            "department_display",
            "development",
            "backstop",
            "unit",
            "active",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MeasureWriteSerializer(serializers.Serializer):
    """POST sends every field (those with a default may be left out); PATCH only what changes.
    A measure is never deleted: plans refer to it. Send ``active: false`` to retire it."""

    group = serializers.PrimaryKeyRelatedField(
        queryset=MeasureGroup.objects.all(), label=_("措施类别")
    )
    name = serializers.CharField(max_length=100, label=_("措施名称"))
    department = serializers.ChoiceField(choices=Department.choices, label=_("责任部门"))
    development = serializers.BooleanField(
        required=False, default=False, label=_("开发式帮扶"), help_text=_("产业、就业、金融等")
    )
    backstop = serializers.BooleanField(
        required=False, default=False, label=_("兜底保障"), help_text=_("低保、特困供养等")
    )
    unit = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        label=_("计量单位"),
        help_text=_("如 元、人次、天"),
    )
    active = serializers.BooleanField(required=False, default=True, label=_("启用"))
    description = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("说明")
    )


# --- recommendation rules -------------------------------------------------------------------


class RecommendationRuleSerializer(serializers.ModelSerializer):
    measure_name = serializers.CharField(source="measure.name", read_only=True, label=_("推荐措施"))
    group_name = serializers.CharField(
        source="measure.group.name", read_only=True, label=_("措施类别")
    )
    risk_types = _choice_list(RiskType.choices, read_only=True, label=_("风险类型（任一）"))
    risk_types_display = serializers.SerializerMethodField(label=_("风险类型名称"))
    household_labour_display = serializers.CharField(
        source="get_household_labour_display", read_only=True
    )
    member_school_statuses = _choice_list(
        SchoolStatus.choices, read_only=True, label=_("成员在校生状况（任一）")
    )
    member_health_statuses = _choice_list(
        HealthStatus.choices, read_only=True, label=_("成员健康状况（任一）")
    )
    member_labour_skills = _choice_list(
        LabourSkill.choices, read_only=True, label=_("成员劳动技能（任一）")
    )

    class Meta:
        model = RecommendationRule
        fields = [
            "id",
            "name",
            "description",
            "active",
            "priority",
            "risk_types",
            "risk_types_display",
            "household_labour",
            "household_labour_display",
            "member_age_min",
            "member_age_max",
            "member_school_statuses",
            "member_health_statuses",
            "member_labour_skills",
            "per_member",
            "only_without_development",
            "measure",
            "measure_name",
            "group_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_risk_types_display(self, rule: RecommendationRule) -> list[str]:
        return _labels(rule.risk_types, RiskType)


class RecommendationRuleWriteSerializer(serializers.Serializer):
    """POST and PUT send every field (those with a default may be left out); PATCH only what
    changes. Empty condition lists mean "any"."""

    name = serializers.CharField(max_length=100, label=_("规则名称"))
    description = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("说明")
    )
    active = serializers.BooleanField(required=False, default=True, label=_("启用"))
    priority = serializers.IntegerField(
        min_value=0,
        max_value=SMALL_INT_MAX,
        required=False,
        default=100,
        label=_("优先级"),
        help_text=_("小者先行"),
    )
    risk_types = _choice_list(
        RiskType.choices,
        required=False,
        default=list,
        label=_("风险类型（任一）"),
        help_text=_("农户有其中任一风险时推荐；为空则不限"),
    )
    household_labour = serializers.ChoiceField(
        choices=HouseholdLabour.choices,
        required=False,
        default=HouseholdLabour.ANY,
        label=_("家庭劳动能力"),
    )
    member_age_min = serializers.IntegerField(
        min_value=0,
        max_value=150,
        required=False,
        allow_null=True,
        default=None,
        label=_("成员年龄不小于"),
    )
    member_age_max = serializers.IntegerField(
        min_value=0,
        max_value=150,
        required=False,
        allow_null=True,
        default=None,
        label=_("成员年龄不大于"),
    )
    member_school_statuses = _choice_list(
        SchoolStatus.choices, required=False, default=list, label=_("成员在校生状况（任一）")
    )
    member_health_statuses = _choice_list(
        HealthStatus.choices, required=False, default=list, label=_("成员健康状况（任一）")
    )
    member_labour_skills = _choice_list(
        LabourSkill.choices, required=False, default=list, label=_("成员劳动技能（任一）")
    )
    per_member = serializers.BooleanField(
        required=False,
        default=False,
        label=_("按符合条件的成员逐人推荐"),
        help_text=_("须至少设置一项成员条件"),
    )
    only_without_development = serializers.BooleanField(
        required=False, default=False, label=_("仅在尚无开发式措施时推荐")
    )
    measure = serializers.PrimaryKeyRelatedField(
        queryset=Measure.objects.all(), label=_("推荐措施")
    )


# --- plans and plan measures ----------------------------------------------------------------


def _overdue(pm: PlanMeasure) -> bool:
    return pm.status in OPEN_MEASURE_STATUSES and pm.planned_end < timezone.localdate()


class PlanMeasureSerializer(serializers.ModelSerializer):
    household = serializers.IntegerField(
        source="plan.household_id", read_only=True, label=_("农户编号")
    )
    household_number = serializers.CharField(
        source="plan.household.household_number", read_only=True, label=_("户编号")
    )
    head_name = serializers.CharField(
        source="plan.household.head_name", read_only=True, label=_("户主姓名")
    )
    village = serializers.CharField(
        source="plan.household.village_id", read_only=True, label=_("行政村（社区）代码")
    )
    village_name = serializers.CharField(
        source="plan.household.village.name", read_only=True, label=_("行政村（社区）")
    )
    township_name = serializers.CharField(
        source="plan.household.village.parent.name",
        read_only=True,
        default="",
        label=_("所属乡镇（街道）"),
    )
    measure_name = serializers.CharField(source="measure.name", read_only=True, label=_("措施"))
    group = serializers.IntegerField(source="measure.group_id", read_only=True, label=_("措施类别"))
    group_name = serializers.CharField(
        source="measure.group.name", read_only=True, label=_("措施类别名称")
    )
    unit = serializers.CharField(source="measure.unit", read_only=True, label=_("计量单位"))
    member_name = serializers.CharField(
        source="member.name", read_only=True, default="", label=_("受益成员")
    )
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    department_display = serializers.CharField(source="get_department_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField(
        label=_("逾期"), help_text=_("未落实且已过计划完成日期")
    )
    updated_by_name = serializers.SerializerMethodField(label=_("最后更新人"))
    can_edit = serializers.SerializerMethodField(
        label=_("您可修改计划"), help_text=_("PATCH /api/plan-measures/{id}/")
    )
    can_progress = serializers.SerializerMethodField(
        label=_("您可更新落实情况"), help_text=_("POST /api/plan-measures/{id}/progress/")
    )
    registry_flags_to_confirm = serializers.SerializerMethodField(
        label=_("落实时确认的农户档案项目"),
        help_text=_(
            "该措施解决的风险在农户档案中对应的保障情况（如 housing_secure）；标记已落实时可在 "
            "…/progress/ 的 registry_flags 中确认。已落实或已终止的措施为空"
        ),
    )

    class Meta:
        model = PlanMeasure
        fields = [
            "id",
            "plan",
            "household",
            "household_number",
            "head_name",
            "village",
            "village_name",
            "township_name",
            "measure",
            "measure_name",
            "group",
            "group_name",
            "unit",
            "member",
            "member_name",
            "source",
            "source_display",
            "rule",
            "rule_name",
            "reason",
            "department",
            "department_display",
            "responsible_person",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "amount",
            "quantity",
            "status",
            "status_display",
            "status_note",
            "overdue",
            "updated_by",
            "updated_by_name",
            "can_edit",
            "can_progress",
            "registry_flags_to_confirm",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_registry_flags_to_confirm(self, pm: PlanMeasure) -> list[str]:
        return list(delivery_flags(pm)) if pm.status in OPEN_MEASURE_STATUSES else []

    def get_overdue(self, pm: PlanMeasure) -> bool:
        return _overdue(pm)

    def get_updated_by_name(self, pm: PlanMeasure) -> str:
        return str(pm.updated_by) if pm.updated_by is not None else ""

    def get_can_edit(self, pm: PlanMeasure) -> bool:
        # Visible measures are in the actor's area already; planners may edit open ones.
        return pm.status in OPEN_MEASURE_STATUSES and perms.can_plan(_actor(self))

    def get_can_progress(self, pm: PlanMeasure) -> bool:
        actor = _actor(self)
        return (
            actor is not None
            and pm.status in OPEN_MEASURE_STATUSES
            and can_update_delivery(actor, pm)
        )


class PlanSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(
        source="household.household_number", read_only=True, label=_("户编号")
    )
    head_name = serializers.CharField(source="household.head_name", read_only=True)
    village = serializers.CharField(
        source="household.village_id", read_only=True, label=_("行政村（社区）代码")
    )
    village_name = serializers.CharField(
        source="household.village.name", read_only=True, label=_("行政村（社区）")
    )
    township_name = serializers.CharField(
        source="household.village.parent.name",
        read_only=True,
        default="",
        label=_("所属乡镇（街道）"),
    )
    accepted_by_name = serializers.SerializerMethodField(label=_("确认人"))
    measure_count = serializers.SerializerMethodField(
        label=_("措施数"), help_text=_("行业部门工作人员只计本部门的措施")
    )
    delivered_count = serializers.SerializerMethodField(label=_("已落实"))
    overdue_count = serializers.SerializerMethodField(label=_("逾期"))

    class Meta:
        model = Plan
        fields = [
            "id",
            "household",
            "household_number",
            "head_name",
            "village",
            "village_name",
            "township_name",
            "accepted_by",
            "accepted_by_name",
            "accepted_at",
            "note",
            "measure_count",
            "delivered_count",
            "overdue_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_accepted_by_name(self, plan: Plan) -> str:
        return str(plan.accepted_by) if plan.accepted_by is not None else ""

    # The counts read the measures the selector prefetched (those the actor may see).
    def get_measure_count(self, plan: Plan) -> int:
        return len(plan.measures.all())

    def get_delivered_count(self, plan: Plan) -> int:
        return sum(pm.status == MeasureStatus.DELIVERED for pm in plan.measures.all())

    def get_overdue_count(self, plan: Plan) -> int:
        return sum(_overdue(pm) for pm in plan.measures.all())


class PlanDetailSerializer(PlanSerializer):
    measures = serializers.SerializerMethodField(label=_("计划措施"))

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "measures"]
        read_only_fields = fields

    @extend_schema_field(PlanMeasureSerializer(many=True))
    def get_measures(self, plan: Plan) -> list[dict[str, Any]]:
        return PlanMeasureSerializer(plan.measures.all(), many=True, context=self.context).data


class PlanProposalSerializer(serializers.Serializer):
    """One measure a recommendation rule proposes, and why."""

    measure = serializers.IntegerField(source="measure.pk", label=_("措施"))
    measure_name = serializers.CharField(source="measure.name", label=_("措施名称"))
    group_name = serializers.CharField(source="measure.group.name", label=_("措施类别"))
    department = serializers.ChoiceField(
        source="measure.department", choices=Department.choices, label=_("责任部门")
    )
    development = serializers.BooleanField(source="measure.development", label=_("开发式帮扶"))
    backstop = serializers.BooleanField(source="measure.backstop", label=_("兜底保障"))
    member = serializers.IntegerField(
        source="member.pk", allow_null=True, default=None, label=_("受益成员")
    )
    member_name = serializers.CharField(source="member.name", default="", label=_("受益成员姓名"))
    rule = serializers.IntegerField(source="rule.pk", label=_("推荐规则"))
    rule_name = serializers.CharField(source="rule.name", label=_("推荐规则名称"))
    reason = serializers.CharField(label=_("推荐理由"))


class HouseholdProposalsSerializer(serializers.Serializer):
    household = serializers.IntegerField(label=_("农户编号"))
    problem = serializers.CharField(
        label=_("不能制定计划的原因"),
        help_text=_("为空表示可以确认；否则 POST /api/plans/accept/ 会以此拒绝"),
    )
    proposals = PlanProposalSerializer(many=True, label=_("推荐措施（按规则优先级）"))


class AreaMemberField(serializers.PrimaryKeyRelatedField):
    """A member id, among the members of the actor's area (others do not exist)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Member.objects.none(), **kwargs)

    def get_queryset(self):
        actor = _actor(self)
        return member_queryset(actor=actor) if actor is not None else Member.objects.none()


class PlanItemSerializer(serializers.Serializer):
    """One measure to put in the plan: a proposal as accepted or edited, or one the cadre adds."""

    measure = serializers.PrimaryKeyRelatedField(
        queryset=Measure.objects.all(), label=_("措施"), help_text=_("须为启用的措施")
    )
    member = AreaMemberField(
        required=False, allow_null=True, label=_("受益成员"), help_text=_("须为该户成员")
    )
    rule = serializers.PrimaryKeyRelatedField(
        queryset=RecommendationRule.objects.all(),
        required=False,
        allow_null=True,
        label=_("推荐规则"),
        help_text=_("接受推荐时填写；来源随之为系统推荐，否则为干部添加"),
    )
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, label=_("推荐理由")
    )
    department = serializers.ChoiceField(
        choices=Department.choices,
        required=False,
        label=_("责任部门"),
        help_text=_("不填为措施的责任部门"),
    )
    responsible_person = serializers.CharField(
        max_length=50, required=False, allow_blank=True, label=_("责任人")
    )
    planned_start = serializers.DateField(
        required=False, allow_null=True, label=_("计划开始日期"), help_text=_("不填为今天")
    )
    planned_end = serializers.DateField(
        required=False,
        allow_null=True,
        label=_("计划完成日期"),
        help_text=_("不填为开始后 90 天"),
    )
    amount = _amount(required=False, allow_null=True)
    quantity = _quantity(required=False, allow_null=True)


class PlanAcceptSerializer(serializers.Serializer):
    household = IdField(label=_("农户编号"))
    items = PlanItemSerializer(many=True, max_length=100, label=_("确认的措施"))
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", label=_("备注")
    )


class PlanMeasureUpdateSerializer(serializers.Serializer):
    """Only what changes; status moves through POST /api/plan-measures/{id}/progress/."""

    department = serializers.ChoiceField(choices=Department.choices, label=_("责任部门"))
    responsible_person = serializers.CharField(max_length=50, allow_blank=True, label=_("责任人"))
    planned_start = serializers.DateField(label=_("计划开始日期"))
    planned_end = serializers.DateField(label=_("计划完成日期"))
    amount = _amount(allow_null=True)
    quantity = _quantity(allow_null=True)
    status_note = serializers.CharField(max_length=200, allow_blank=True, label=_("落实情况说明"))


#: The registry flags a delivery may confirm, once each: housing_secure, drinking_water_secure.
REGISTRY_FLAG_NAMES = tuple(dict.fromkeys(RISK_REGISTRY_FLAGS.values()))


def _flag_help() -> str:
    names = "、".join(f"{name}（{flag_label(name)}）" for name in REGISTRY_FLAG_NAMES)
    return str(
        _(
            '标记已落实时确认农户档案的保障情况，如 {"housing_secure": true}；可填：%(names)s，'
            "只能填该措施的 registry_flags_to_confirm 所列项目。改变的项目经农户档案服务更新"
            "（记入农户的审计日志）；只有村、乡镇（街道）和区县工作人员可以修改。"
        )
    ) % {"names": names}


class RegistryFlagsField(serializers.DictField):
    """``{"housing_secure": true}``: registry flags by name, each a yes/no."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.BooleanField(), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, bool]:
        value = super().to_internal_value(data)
        unknown = sorted(set(value) - set(REGISTRY_FLAG_NAMES))
        if unknown:
            raise serializers.ValidationError(
                _("未知的农户档案项目：%(names)s") % {"names": "、".join(unknown)}
            )
        return value


class PlanMeasureProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=MeasureStatus.choices,
        label=_("状态"),
        help_text=_("计划中 → 实施中 → 已落实，或终止（须说明原因）；已落实和已终止不能再改"),
    )
    actual_start = serializers.DateField(
        required=False,
        allow_null=True,
        label=_("实际开始日期"),
        help_text=_("实施中或已落实时不填为今天"),
    )
    actual_end = serializers.DateField(
        required=False, allow_null=True, label=_("实际完成日期"), help_text=_("已落实时不填为今天")
    )
    amount = _amount(required=False, allow_null=True)
    quantity = _quantity(required=False, allow_null=True)
    status_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, label=_("落实情况说明")
    )
    registry_flags = RegistryFlagsField(
        required=False, label=_("确认的农户档案保障情况"), help_text=_flag_help()
    )


class PlanMeasureBulkProgressSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=BULK_PROGRESS_LIMIT,
        label=_("计划措施编号"),
        help_text=_("最多 %(n)d 项") % {"n": BULK_PROGRESS_LIMIT},
    )
    status = serializers.ChoiceField(
        choices=MeasureStatus.choices,
        label=_("状态"),
        help_text=_("只能为实施中（in_progress）或已落实（delivered）；终止须逐项说明原因"),
    )
    date = serializers.DateField(
        required=False,
        allow_null=True,
        label=_("日期"),
        help_text=_("已落实时为实际完成日期，实施中时为实际开始日期；不填为今天"),
    )
    note = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        label=_("落实情况说明"),
        help_text=_("填写后替换各措施原有的说明；为空则保留"),
    )

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        values = self.validated_data
        if values.get("date") is not None:
            delivered = values["status"] == MeasureStatus.DELIVERED
            data["actual_end" if delivered else "actual_start"] = values["date"]
        note = (values.get("note") or "").strip()
        if note:
            data["status_note"] = note
        return data


class PlanMeasureBulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(label=_("已更新的措施数"))
    results = PlanMeasureSerializer(many=True, label=_("已更新的措施"))
