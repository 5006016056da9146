"""Serializers of the screening API: feed sources and batches, rules, runs, alerts, policy values.

As in ``serializers``, they check types and shapes only. Column mappings and rule specs are
passed to the services as JSON and validated there (``parse_columns``, ``parse_rule_spec``), so
the API reports the same Chinese messages as the pages; the nested serializers below only
document those shapes in the schema.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shouwang.api.serializers import DivisionField
from shouwang.core.models import Division, User
from shouwang.policy.models import PolicyValue
from shouwang.policy.parameters import PARAMETERS
from shouwang.registry.choices import RiskType
from shouwang.screening import choices as c
from shouwang.screening.feeds import selectors as feed_selectors
from shouwang.screening.models import Alert, FeedBatch, FeedSource, Rule, RuleVersion, ScreeningRun

# --- shapes of the JSON documents (schema only) ---------------------------------------------


class FeedColumnSerializer(serializers.Serializer):
    field = serializers.CharField(
        label=_("字段名"), help_text=_("规则引用的英文字段名，如 out_of_pocket")
    )
    header = serializers.CharField(label=_("表头"), help_text=_("部门文件中的中文表头"))
    type = serializers.ChoiceField(label=_("类型"), choices=c.ColumnType.choices)
    required = serializers.BooleanField(label=_("必填"), required=False, default=False)
    aliases = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        label=_("表头别名"),
        help_text=_("部门可能使用的其他表头写法"),
    )
    choices = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        label=_("选项对照"),
        help_text=_("选项列：表中写法 → 取值"),
    )


class ThresholdSerializer(serializers.Serializer):
    value = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        label=_("数值"),
        help_text=_("固定阈值；与 parameter 二选一"),
    )
    parameter = serializers.ChoiceField(
        choices=list(PARAMETERS),
        required=False,
        label=_("政策参数"),
        help_text=_("引用政策参数（见 /api/policy-values/）"),
    )
    factor = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        required=False,
        label=_("倍数"),
        help_text=_("如 0.5 表示 50%"),
    )
    year_offset = serializers.IntegerField(
        min_value=-5,
        max_value=0,
        required=False,
        label=_("年份偏移"),
        help_text=_("-1 表示上一年度的数值"),
    )


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(
        label=_("字段"),
        help_text=_(
            "数据源的字段，或 person.age、person.labour_capable、household.labour_count、"
            "household.member_count"
        ),
    )
    op = serializers.ChoiceField(label=_("比较方式"), choices=c.ConditionOp.choices)
    value = serializers.JSONField(
        label=_("取值"), help_text=_("文本、数值、是/否；in 和 not_in 为列表")
    )


class AggregateSerializer(serializers.Serializer):
    function = serializers.ChoiceField(label=_("统计方式"), choices=c.AggregateFunction.choices)
    field = serializers.CharField(
        label=_("统计字段"),
        allow_null=True,
        help_text=_("count 时为 null；只看登记数据的规则用 household.per_capita_net_income"),
    )


class RuleSpecSerializer(serializers.Serializer):
    feed = serializers.SlugField(
        label=_("数据源"), allow_null=True, help_text=_("数据源代码；只看登记数据时为 null")
    )
    conditions = ConditionSerializer(many=True, label=_("筛选条件"))
    aggregate = AggregateSerializer(label=_("统计"))
    window_months = serializers.IntegerField(
        label=_("统计时间窗口（月）"), min_value=1, max_value=60
    )
    per = serializers.ChoiceField(label=_("统计对象"), choices=c.Per.choices)
    comparison = serializers.ChoiceField(label=_("比较"), choices=c.Comparison.choices)
    threshold = ThresholdSerializer(label=_("阈值（在册人员）"))
    threshold_unregistered = ThresholdSerializer(
        label=_("阈值（未在册人员）"),
        allow_null=True,
        required=False,
        help_text=_("留空则与在册人员相同"),
    )
    population = serializers.ListField(
        child=serializers.ChoiceField(choices=c.Population.choices), label=_("适用人群")
    )
    risk_type = serializers.ChoiceField(label=_("风险类型"), choices=RiskType.choices)
    severity = serializers.ChoiceField(label=_("严重程度"), choices=c.Severity.choices)


@extend_schema_field(FeedColumnSerializer(many=True))
class ColumnsField(serializers.JSONField):
    """A source's column mapping as JSON; ``parse_columns`` in the service validates it."""


@extend_schema_field(RuleSpecSerializer)
class RuleSpecField(serializers.JSONField):
    """A rule spec as JSON; ``parse_rule_spec`` in the service validates it."""


def _user_name(user: User | None) -> str:
    return str(user) if user is not None else ""


# --- feed sources ---------------------------------------------------------------------------


class FeedSourceSerializer(serializers.ModelSerializer):
    department_display = serializers.CharField(source="get_department_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    columns = ColumnsField(read_only=True, label=_("列定义"))

    class Meta:
        model = FeedSource
        fields = [
            "slug",
            "name",
            "department",
            "department_display",
            "kind",
            "kind_display",
            "description",
            "columns",
            "active",
            "builtin",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FeedSourceUpdateSerializer(serializers.Serializer):
    """What an administrator may change on a source; the department and kind stay."""

    name = serializers.CharField(required=False, max_length=100, label=_("名称"))
    description = serializers.CharField(required=False, allow_blank=True, label=_("说明"))
    columns = ColumnsField(
        required=False, label=_("列定义"), help_text=_("整体替换；逐项校验后保存")
    )
    active = serializers.BooleanField(required=False, label=_("启用"))


# --- feed batches ---------------------------------------------------------------------------


class FeedBatchErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(label=_("行号"), allow_null=True)
    column = serializers.CharField(label=_("列"), allow_blank=True)
    message = serializers.CharField(label=_("原因"))


@extend_schema_field(FeedBatchErrorSerializer(many=True))
class BatchErrorsField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
class CountsByReasonField(serializers.JSONField):
    pass


class FeedBatchSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True, label=_("数据源"))
    source_name = serializers.CharField(source="source.name", read_only=True, label=_("数据源名称"))
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True, label=_("进度（%）"))
    errors = BatchErrorsField(read_only=True, label=_("拒收原因（前若干条）"))
    error_counts = CountsByReasonField(read_only=True, label=_("拒收原因统计（原因代码 → 行数）"))
    actor_name = serializers.SerializerMethodField(label=_("导入人"))
    has_rejects = serializers.SerializerMethodField(label=_("有拒收明细文件"))

    class Meta:
        model = FeedBatch
        fields = [
            "id",
            "source",
            "source_name",
            "period",
            "file_name",
            "file_sha256",
            "file_size",
            "status",
            "status_display",
            "progress_percent",
            "rows_estimated",
            "rows_read",
            "rows_accepted",
            "rows_rejected",
            "errors",
            "error_counts",
            "message",
            "has_rejects",
            "actor",
            "actor_name",
            "started_at",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, batch: FeedBatch) -> str:
        return _user_name(batch.actor)

    def get_has_rejects(self, batch: FeedBatch) -> bool:
        return bool(batch.rejects_path)


class VisibleSourceField(serializers.SlugRelatedField):
    """A source slug, among the sources the requesting user may see."""

    def get_queryset(self):
        return feed_selectors.feed_source_list(actor=self.context["request"].user)

    def to_internal_value(self, data: Any) -> FeedSource:
        # A NUL byte would reach PostgreSQL, which refuses it in a query.
        if not isinstance(data, str) or "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class FeedBatchUploadSerializer(serializers.Serializer):
    source = VisibleSourceField(
        slug_field="slug",
        queryset=FeedSource.objects.all(),
        label=_("数据源"),
        help_text=_("数据源代码，如 medical"),
    )
    period = serializers.CharField(
        max_length=7, label=_("数据期别"), help_text=_("年-月，如 2026-10")
    )
    file = serializers.FileField(
        label=_("文件"), help_text=_(".xlsx 或 .csv（UTF-8、带 BOM 的 UTF-8、GB18030）")
    )


# --- rules ----------------------------------------------------------------------------------


class RuleSerializer(serializers.ModelSerializer):
    spec = RuleSpecField(read_only=True, label=_("规则定义"))
    risk_type_display = serializers.CharField(source="get_risk_type_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    open_alerts = serializers.IntegerField(read_only=True, label=_("未处理预警数（全区县）"))

    class Meta:
        model = Rule
        fields = [
            "slug",
            "name",
            "description",
            "spec",
            "version",
            "active",
            "builtin",
            "risk_type",
            "risk_type_display",
            "severity",
            "severity_display",
            "open_alerts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RuleCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(
        max_length=60, label=_("代码"), help_text=_("小写字母、数字和连字符，创建后不能修改")
    )
    name = serializers.CharField(max_length=100, label=_("名称"))
    description = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("说明")
    )
    spec = RuleSpecField(label=_("规则定义"))
    active = serializers.BooleanField(required=False, default=True, label=_("启用"))

    def validate_slug(self, value: str) -> str:
        # /api/rules/preview/ is the preview of an unsaved rule; a rule of that name would hide it.
        if value == "preview":
            raise serializers.ValidationError(_("“preview”为保留代码，请换一个"))
        return value


class RuleUpdateSerializer(serializers.Serializer):
    """PUT sends every field; PATCH only what changes. Each save makes a new version."""

    name = serializers.CharField(max_length=100, label=_("名称"))
    description = serializers.CharField(allow_blank=True, label=_("说明"))
    spec = RuleSpecField(label=_("规则定义"))
    active = serializers.BooleanField(label=_("启用"))
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        label=_("修改说明"),
        help_text=_("记入版本历史"),
    )


class RulePreviewRequestSerializer(serializers.Serializer):
    spec = RuleSpecField(label=_("规则定义"))
    period = serializers.CharField(
        required=False,
        max_length=7,
        label=_("比对期别"),
        help_text=_("年-月；不填则取最近已导入数据的期别"),
    )
    engine = serializers.ChoiceField(
        choices=c.Engine.choices, required=False, default=c.Engine.DUCKDB, label=_("计算引擎")
    )


class SavedRulePreviewRequestSerializer(RulePreviewRequestSerializer):
    spec = RuleSpecField(
        required=False, label=_("规则定义"), help_text=_("不填则预览规则当前的定义")
    )


class PreviewSampleSerializer(serializers.Serializer):
    subject_key = serializers.CharField(
        label=_("对象键"), help_text=_("h:农户编号 或 p:人员索引（未在册）")
    )
    value = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, label=_("统计值")
    )
    threshold = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, label=_("阈值")
    )


class RulePreviewSerializer(serializers.Serializer):
    period = serializers.CharField(label=_("比对期别"))
    matches = serializers.IntegerField(label=_("命中数"))
    registered = serializers.IntegerField(label=_("其中在册"))
    unregistered = serializers.IntegerField(label=_("其中未在册"))
    already_alerted = serializers.IntegerField(label=_("已有未处理预警"))
    threshold_registered = serializers.DecimalField(
        max_digits=16, decimal_places=2, label=_("在册人员阈值")
    )
    threshold_unregistered = serializers.DecimalField(
        max_digits=16, decimal_places=2, label=_("未在册人员阈值")
    )
    sample = PreviewSampleSerializer(many=True, label=_("前 10 条命中"))

    def to_representation(self, preview) -> dict[str, Any]:
        registered, unregistered = preview.thresholds
        return super().to_representation(
            {
                "period": preview.period,
                "matches": preview.matches,
                "registered": preview.registered,
                "unregistered": preview.unregistered,
                "already_alerted": preview.already_alerted,
                "threshold_registered": registered,
                "threshold_unregistered": unregistered,
                "sample": preview.sample,
            }
        )


class RuleVersionSerializer(serializers.ModelSerializer):
    spec = RuleSpecField(read_only=True, label=_("规则定义"))
    actor_name = serializers.SerializerMethodField(label=_("修改人"))

    class Meta:
        model = RuleVersion
        fields = [
            "version",
            "name",
            "description",
            "spec",
            "active",
            "note",
            "actor",
            "actor_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, version: RuleVersion) -> str:
        return _user_name(version.actor)


# --- runs -----------------------------------------------------------------------------------


class ScreeningRunSerializer(serializers.ModelSerializer):
    engine_display = serializers.CharField(source="get_engine_display", read_only=True)
    trigger_display = serializers.CharField(source="get_trigger_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    actor_name = serializers.SerializerMethodField(label=_("发起人"))
    rules = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, label=_("运行的规则及版本")
    )
    batches = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, label=_("使用的导入批次")
    )
    counts = serializers.DictField(read_only=True, label=_("分规则统计"))
    timings = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, label=_("各阶段耗时（毫秒）")
    )

    class Meta:
        model = ScreeningRun
        fields = [
            "id",
            "engine",
            "engine_display",
            "period",
            "trigger",
            "trigger_display",
            "status",
            "status_display",
            "actor",
            "actor_name",
            "rules",
            "batches",
            "persons",
            "households",
            "feed_rows",
            "matches",
            "alerts_new",
            "alerts_existing",
            "counts",
            "timings",
            "message",
            "started_at",
            "finished_at",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, run: ScreeningRun) -> str:
        return _user_name(run.actor)


class ScreeningRunCreateSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(
        choices=c.Engine.choices, required=False, default=c.Engine.DUCKDB, label=_("计算引擎")
    )
    period = serializers.CharField(
        required=False,
        max_length=7,
        label=_("比对期别"),
        help_text=_("年-月；不填则取最近已导入数据的期别"),
    )
    rules = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        allow_empty=True,
        label=_("规则"),
        help_text=_("规则代码；不填则运行全部启用的规则"),
    )


# --- alerts ---------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="slug", read_only=True, label=_("规则"))
    rule_name = serializers.CharField(source="rule.name", read_only=True, label=_("规则名称"))
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
    placed_by_display = serializers.CharField(source="get_placed_by_display", read_only=True)
    risk_type_display = serializers.CharField(source="get_risk_type_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    comparison_display = serializers.CharField(source="get_comparison_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    assigned_to_name = serializers.SerializerMethodField(label=_("交办给"))

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "rule_version",
            "run",
            "period",
            "status",
            "status_display",
            "risk_type",
            "risk_type_display",
            "severity",
            "severity_display",
            "household",
            "household_number",
            "person_name",
            "unregistered",
            "after_elimination",
            "division",
            "division_name",
            "township_name",
            "placed_by",
            "placed_by_display",
            "value",
            "comparison",
            "comparison_display",
            "threshold",
            "assigned_to",
            "assigned_to_name",
            "triage_group",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "triage_group": {
                "help_text": _(
                    "处理分组：同一农户（或未在册人员）、同一部门数据依据的预警取同一值，"
                    "排除、交办、转为线索时一并处理"
                )
            }
        }

    def get_assigned_to_name(self, alert: Alert) -> str:
        return _user_name(alert.assigned_to)


class AlertEvidenceSerializer(serializers.Serializer):
    """The evidence stored on an alert (what was compared, and the feed rows behind it)."""

    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        label=_("部门数据行"),
        help_text=_("[导入批次编号, 文件行号]，至多 200 条"),
    )
    row_count = serializers.IntegerField(label=_("部门数据行数"))
    window = serializers.ListField(
        child=serializers.DateField(), label=_("统计时间窗口（起止日期）")
    )
    threshold_rule = ThresholdSerializer(label=_("阈值规则"))
    population = serializers.ChoiceField(choices=c.Population.choices, label=_("人群"))
    aggregate = AggregateSerializer(label=_("统计"))
    feed = serializers.CharField(allow_null=True, label=_("数据源"))


@extend_schema_field(AlertEvidenceSerializer)
class EvidenceField(serializers.JSONField):
    pass


class AlertDetailSerializer(AlertSerializer):
    member_name = serializers.CharField(
        source="member.name", read_only=True, default=None, allow_null=True
    )
    decided_by_name = serializers.SerializerMethodField(label=_("处理人"))
    evidence = EvidenceField(read_only=True, label=_("依据"))

    class Meta(AlertSerializer.Meta):
        fields = [
            *AlertSerializer.Meta.fields,
            "member",
            "member_name",
            "evidence",
            "resolution_note",
            "decided_by",
            "decided_by_name",
            "decided_at",
        ]
        read_only_fields = fields

    def get_decided_by_name(self, alert: Alert) -> str:
        return _user_name(alert.decided_by)


class EvidenceRowSerializer(serializers.Serializer):
    row_number = serializers.IntegerField(label=_("文件行号"))
    cells = serializers.ListField(
        child=serializers.CharField(), label=_("各列的值（与 headers 对应，已按页面格式化）")
    )


class EvidenceBatchSerializer(serializers.Serializer):
    batch = serializers.IntegerField(source="batch_id", label=_("导入批次编号"))
    source = serializers.CharField(
        source="batch.source.slug", default=None, allow_null=True, label=_("数据源")
    )
    source_name = serializers.CharField(
        source="batch.source.name", default=None, allow_null=True, label=_("数据源名称")
    )
    period = serializers.CharField(
        source="batch.period", default=None, allow_null=True, label=_("数据期别")
    )
    file_name = serializers.CharField(
        source="batch.file_name", default=None, allow_null=True, label=_("文件名")
    )
    headers = serializers.ListField(child=serializers.CharField(), label=_("表头"))
    rows = serializers.SerializerMethodField(label=_("数据行"))
    missing_rows = serializers.ListField(child=serializers.IntegerField(), label=_("找不到的行号"))
    problem = serializers.CharField(
        label=_("无法显示的原因"), help_text=_("批次已删除或暂存文件不存在时说明原因")
    )

    @extend_schema_field(EvidenceRowSerializer(many=True))
    def get_rows(self, item) -> list[dict[str, Any]]:
        return [
            {"row_number": number, "cells": [shown for _header, shown in cells]}
            for number, cells in item.rows
        ]


class AlertEvidenceRowsSerializer(serializers.Serializer):
    total = serializers.IntegerField(label=_("依据的数据行总数"))
    shown = serializers.IntegerField(label=_("列出的行数"))
    truncated = serializers.BooleanField(label=_("只列出了一部分"))
    batches = EvidenceBatchSerializer(many=True, label=_("按导入批次"))


class AlertDismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, label=_("排除理由"), help_text=_("至少 4 个字"))


class AlertAssignSerializer(serializers.Serializer):
    """``context["assignees"]``: who may take the alert (``selectors.alert_assignees``); any
    other id, known or not, gets the same refusal, which names no one."""

    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        label=_("交办给"),
        help_text=_("可接收该预警的用户编号（见 assignees）"),
        error_messages={
            "does_not_exist": _("只能指派给您管辖范围内可处理该预警的用户"),
            "incorrect_type": _("只能指派给您管辖范围内可处理该预警的用户"),
        },
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", label=_("交办说明")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assignees" in self.context:
            self.fields["assignee"].queryset = self.context["assignees"]


class AlertOpenLeadSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", label=_("说明")
    )


class AssigneeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True, label=_("姓名"))

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


# --- policy values --------------------------------------------------------------------------


class PolicyValueSerializer(serializers.ModelSerializer):
    parameter_label = serializers.SerializerMethodField(label=_("参数名称"))
    unit = serializers.SerializerMethodField(label=_("单位"))
    division_name = serializers.CharField(
        source="division.name",
        read_only=True,
        default=None,
        allow_null=True,
        label=_("适用区划名称"),
    )
    updated_by_name = serializers.SerializerMethodField(label=_("修改人"))

    class Meta:
        model = PolicyValue
        fields = [
            "id",
            "parameter",
            "parameter_label",
            "unit",
            "division",
            "division_name",
            "year",
            "value",
            "source",
            "note",
            "updated_by",
            "updated_by_name",
            "updated_at",
        ]
        read_only_fields = fields

    def get_parameter_label(self, row: PolicyValue) -> str:
        parameter = PARAMETERS.get(row.parameter)
        return str(parameter.label) if parameter else row.parameter

    def get_unit(self, row: PolicyValue) -> str:
        parameter = PARAMETERS.get(row.parameter)
        return str(parameter.unit) if parameter else ""

    def get_updated_by_name(self, row: PolicyValue) -> str:
        return _user_name(row.updated_by)


class PolicyValueWriteSerializer(serializers.Serializer):
    """PUT and POST send every field; PATCH only what changes (the rest is kept)."""

    parameter = serializers.ChoiceField(choices=list(PARAMETERS), label=_("参数"))
    division = DivisionField(
        queryset=Division.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        label=_("适用区划"),
        help_text=_("12 位省级或区县级代码；留空表示全国默认值"),
    )
    year = serializers.IntegerField(
        allow_null=True,
        required=False,
        default=None,
        label=_("年度"),
        help_text=_("留空表示不分年度"),
    )
    value = serializers.DecimalField(max_digits=14, decimal_places=4, label=_("数值"))
    source = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("依据或来源")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", label=_("说明"))
