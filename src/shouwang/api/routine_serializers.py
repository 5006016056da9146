"""Serializers of the routine work API: monthly meetings, quarterly reviews, campaigns and
their checks. They check types and shapes; the routine services decide."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from shouwang.api.serializers import DivisionField, IdField
from shouwang.cases.models import (
    Campaign,
    CampaignCheck,
    MeetingItem,
    QuarterlyReview,
    VillageMeeting,
)
from shouwang.cases.routine_choices import (
    AgendaKind,
    CheckResult,
    MemberAdditionReason,
    MemberRemovalReason,
)
from shouwang.core.choices import DivisionLevel
from shouwang.core.models import Division
from shouwang.registry import choices as rc
from shouwang.registry.models import Household

# --- monthly meeting ---------------------------------------------------------------------


class AgendaDetailSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["lead", "case", "alert", "household", "measure"], label=_("对象类型")
    )
    id = serializers.IntegerField(label=_("对象编号"))
    household_id = serializers.IntegerField(allow_null=True, label=_("农户编号"))
    text = serializers.CharField(label=_("说明"))


class MeetingItemSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    details = AgendaDetailSerializer(many=True, read_only=True)

    class Meta:
        model = MeetingItem
        fields = ["position", "kind", "kind_display", "count", "details", "decision"]


class AgendaEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgendaKind.choices, label=_("议题"))
    label = serializers.CharField(label=_("议题名称"))
    count = serializers.IntegerField(label=_("数量"))
    details = AgendaDetailSerializer(many=True)


class VillageMeetingSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    township_name = serializers.CharField(source="village.parent.name", read_only=True, default="")
    recorded_by = serializers.StringRelatedField(read_only=True)
    items = MeetingItemSerializer(many=True, read_only=True)

    class Meta:
        model = VillageMeeting
        fields = [
            "id",
            "village",
            "village_name",
            "township_name",
            "month",
            "held_on",
            "attendees",
            "attendee_count",
            "summary",
            "items",
            "recorded_by",
            "created_at",
            "updated_at",
        ]


class MeetingCreateSerializer(serializers.Serializer):
    village = DivisionField(
        queryset=Division.objects.filter(level=DivisionLevel.VILLAGE),
        label=_("行政村（社区）"),
        help_text=_("12 位区划代码"),
    )
    month = serializers.RegexField(
        r"^20\d{2}(0[1-9]|1[0-2])$", label=_("会议月份"), help_text=_("YYYYMM，如 202611")
    )
    held_on = serializers.DateField(label=_("召开日期"))
    attendees = serializers.CharField(
        label=_("参会人员"), help_text=_("姓名用顿号或逗号分隔；参会人数按姓名统计")
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    decisions = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        label=_("研究意见"),
        help_text=_(
            "按议题填写：new_leads、open_cases、alerts、eliminations_due、overdue_measures、monitor_report。"
            "有内容的议题和监测员汇报必填；无内容的议题可不填（记为“无”）。"
        ),
    )


class MeetingUpdateSerializer(serializers.Serializer):
    held_on = serializers.DateField(required=False, label=_("召开日期"))
    attendees = serializers.CharField(required=False, label=_("参会人员"))
    summary = serializers.CharField(required=False, allow_blank=True, label=_("会议纪要"))
    decisions = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        label=_("研究意见"),
        help_text=_("只需列出要修改的议题"),
    )


class OutstandingMeetingSerializer(serializers.Serializer):
    village = serializers.CharField(source="village.code", label=_("区划代码"))
    village_name = serializers.CharField(source="village.name", label=_("村（社区）"))
    township_name = serializers.CharField(
        source="village.parent.name", default="", label=_("乡镇（街道）")
    )
    due_on = serializers.DateField(label=_("截止日期"))
    overdue = serializers.BooleanField(label=_("已逾期"))


# --- quarterly review --------------------------------------------------------------------


class QuarterlyReviewSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.household_number", read_only=True)
    head_name = serializers.CharField(source="household.head_name", read_only=True)
    village = serializers.CharField(source="household.village_id", read_only=True)
    recorded_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = QuarterlyReview
        fields = [
            "id",
            "household",
            "household_number",
            "head_name",
            "village",
            "quarter",
            "reviewed_on",
            "risk_present",
            "plan_needs_change",
            "note",
            "reviewers",
            "recorded_by",
            "created_at",
        ]


class ReviewCreateSerializer(serializers.Serializer):
    household = IdField(label=_("农户编号"))
    reviewed_on = serializers.DateField(
        label=_("研判日期"), help_text=_("研判所属季度按此日期确定")
    )
    risk_present = serializers.BooleanField(label=_("风险仍然存在"))
    plan_needs_change = serializers.BooleanField(label=_("帮扶方案需要调整"))
    reviewers = serializers.CharField(max_length=200, label=_("研判人员"))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewDueHouseholdSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    monitoring_category_display = serializers.CharField(
        source="get_monitoring_category_display", read_only=True
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "household_number",
            "head_name",
            "village",
            "village_name",
            "monitoring_category",
            "monitoring_category_display",
            "identified_month",
        ]


# --- yearly campaign ---------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    scope_name = serializers.CharField(source="scope.name", read_only=True)
    opened_by = serializers.StringRelatedField(read_only=True)
    checked = serializers.IntegerField(read_only=True, label=_("已排查户数"))

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "scope",
            "scope_name",
            "starts_on",
            "ends_on",
            "note",
            "checked",
            "opened_by",
            "created_at",
        ]


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, label=_("名称"))
    scope = DivisionField(
        queryset=Division.objects.filter(level__in=(DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP)),
        label=_("排查范围"),
        help_text=_("区县或乡镇（街道）的 12 位区划代码"),
    )
    starts_on = serializers.DateField(label=_("开始日期"))
    ends_on = serializers.DateField(label=_("结束日期"))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AppliedChangeSerializer(serializers.Serializer):
    change = serializers.CharField(
        label=_("变动"),
        help_text=_("birth、marriage_in、move_in、death、move_out、marriage_out 或 new_head"),
    )
    member_id = serializers.IntegerField(label=_("成员编号"))
    name = serializers.CharField(label=_("姓名"))
    relation = serializers.CharField(label=_("与户主关系"))


class CampaignCheckSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.household_number", read_only=True)
    head_name = serializers.CharField(source="household.head_name", read_only=True)
    result_display = serializers.CharField(source="get_result_display", read_only=True)
    changes = AppliedChangeSerializer(many=True, read_only=True)
    recorded_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = CampaignCheck
        fields = [
            "id",
            "campaign",
            "household",
            "household_number",
            "head_name",
            "village",
            "checked_on",
            "checker",
            "result",
            "result_display",
            "note",
            "changes",
            "lead",
            "recorded_by",
            "created_at",
        ]


class MemberRemovalSerializer(serializers.Serializer):
    member_id = IdField(label=_("成员编号"))
    reason = serializers.ChoiceField(choices=MemberRemovalReason.choices, label=_("减少原因"))


class MemberAdditionSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=MemberAdditionReason.choices, label=_("增加原因"))
    name = serializers.CharField(max_length=50, label=_("姓名"))
    id_number = serializers.CharField(
        max_length=18, write_only=True, label=_("身份证号码"), help_text=_("性别、出生日期由此得出")
    )
    relation = serializers.ChoiceField(choices=rc.Relation.choices, label=_("与户主关系"))
    education = serializers.ChoiceField(
        choices=rc.Education.choices, default=rc.Education.PRESCHOOL, label=_("文化程度")
    )
    labour_skill = serializers.ChoiceField(
        choices=rc.LabourSkill.choices, default=rc.LabourSkill.NONE, label=_("劳动技能")
    )
    school_status = serializers.ChoiceField(
        choices=rc.SchoolStatus.choices,
        default=rc.SchoolStatus.NOT_IN_SCHOOL,
        label=_("在校生状况"),
    )


class CampaignCheckCreateSerializer(serializers.Serializer):
    household = IdField(label=_("农户编号"))
    checked_on = serializers.DateField(label=_("排查日期"))
    checker = serializers.CharField(max_length=100, label=_("排查人"))
    result = serializers.ChoiceField(choices=CheckResult.choices, label=_("排查结果"))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    removals = MemberRemovalSerializer(many=True, required=False, default=list)
    additions = MemberAdditionSerializer(many=True, required=False, default=list)
    new_head = IdField(
        required=False,
        allow_null=True,
        default=None,
        label=_("新户主成员编号"),
        help_text=_("户主减少时，从留下的成员中指定"),
    )


class VillageProgressSerializer(serializers.Serializer):
    village = serializers.CharField(source="village.code", label=_("区划代码"))
    village_name = serializers.CharField(source="village.name", label=_("村（社区）"))
    households = serializers.IntegerField(label=_("在册户数"))
    checked = serializers.IntegerField(label=_("已排查户数"))
    changed = serializers.IntegerField(label=_("有变化"))
    new_risk = serializers.IntegerField(label=_("发现新风险"))


class CampaignProgressSerializer(serializers.Serializer):
    households = serializers.IntegerField(label=_("在册户数"))
    checked = serializers.IntegerField(label=_("已排查户数"))
    villages = VillageProgressSerializer(many=True)
