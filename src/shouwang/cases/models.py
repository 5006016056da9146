"""Leads (线索) and the identification / risk-elimination cases they become.

A case's state changes only through ``cases.services.case_act``, which appends a
``CaseTransition`` with what the step recorded; the case row carries the current state and the
figures later steps and lists need (notice dates, the visit's income, the proposal).

The routine work (monthly village meeting, quarterly review, yearly campaign) follows at the
end; its writes are in ``routine_services``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.cases import choices as c
from shouwang.cases import routine_choices as rc
from shouwang.core.models import BaseModel, Division
from shouwang.registry.choices import MonitoringCategory
from shouwang.registry.models import MONTH_VALIDATOR


class Lead(BaseModel):
    """A possible monitoring object, from any discovery channel, waiting to be handled."""

    channel = models.CharField(_("线索来源"), max_length=24, choices=c.LeadChannel.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.LeadStatus.choices, default=c.LeadStatus.OPEN
    )
    #: The household concerned, when it is in the registry.
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="leads",
    )
    #: Where the lead belongs: the household's village, or for an unregistered person the
    #: village given (or the county of the ID's address code until someone places it).
    division = models.ForeignKey(
        Division, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField(_("姓名"), max_length=50, blank=True)
    id_number_encrypted = models.TextField(_("身份证号码（密文）"), blank=True)
    id_number_index = models.CharField(
        _("身份证号码索引"), max_length=64, blank=True, db_index=True
    )
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, blank=True)
    phone_encrypted = models.TextField(_("联系电话（密文）"), blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    description = models.TextField(_("情况说明"))
    #: The day the lead arrived: the identification time limit counts from here.
    received_on = models.DateField(_("发现日期"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter_name = models.CharField(_("报告人"), max_length=50, blank=True)
    alert = models.ForeignKey(
        "screening.Alert",
        verbose_name=_("来源预警"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    #: Self-application: the household's pledge and its consent to an asset check.
    pledge_signed = models.BooleanField(_("已签署承诺书"), default=False)
    asset_check_consent = models.BooleanField(_("同意授权核查家庭资产"), default=False)
    #: Self-application: the code the household uses to follow its application.
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True, null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
    )
    closed_reason = models.TextField(_("关闭原因"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["status", "division"], name="lead_status_division")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class Case(BaseModel):
    """One run of the identification (six steps) or risk-elimination (five steps) procedure."""

    kind = models.CharField(_("类型"), max_length=16, choices=c.CaseKind.choices)
    state = models.CharField(_("当前步骤"), max_length=24, choices=c.CaseState.choices)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    #: The case's village: acting users must cover it.
    village = models.ForeignKey(
        Division, verbose_name=_("行政村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("来源线索"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    #: For a household not yet in the registry: who the case is about until the home visit.
    person_name = models.CharField(_("姓名"), max_length=50, blank=True)
    opened_on = models.DateField(_("启动日期"))
    #: The whole procedure's time limit (identification: from the lead's day).
    due_on = models.DateField(_("办结时限"))
    #: The current step's own limit, where the province sets one in working days.
    step_due_on = models.DateField(_("本步骤时限"), null=True, blank=True)
    #: The step limit was counted Monday–Friday: the year's holidays are not published yet.
    step_due_estimated = models.BooleanField(_("本步骤时限为估算"), default=False)
    #: The nearer of the two limits; lists sort and flag by it.
    next_due_on = models.DateField(_("最近时限"), db_index=True)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    green_channel_reason = models.CharField(_("绿色通道事由"), max_length=200, blank=True)
    notice_started_on = models.DateField(_("公示开始"), null=True, blank=True)
    notice_ends_on = models.DateField(_("公示结束"), null=True, blank=True)
    #: From the latest home visit.
    per_capita_net_income = models.DecimalField(
        _("核实人均纯收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    proposed_category = models.CharField(
        _("拟定监测类别"), max_length=32, choices=MonitoringCategory.choices, blank=True
    )
    proposed_risk_types = models.JSONField(_("拟定风险类型"), default=list, blank=True)
    elimination_method = models.CharField(_("消除方式"), max_length=16, blank=True)
    decided_month = models.CharField(_("审定年月"), max_length=6, blank=True)
    outcome_note = models.TextField(_("结果说明"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("识别/消除流程")
        verbose_name_plural = _("识别/消除流程")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["state", "village"], name="case_state_village")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CaseTransition(models.Model):
    """One step taken: who, when, from which state to which, and what the step recorded."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    verb = models.CharField(_("操作"), max_length=24, choices=c.CaseVerb.choices)
    from_state = models.CharField(_("原步骤"), max_length=24, choices=c.CaseState.choices)
    to_state = models.CharField(_("新步骤"), max_length=24, choices=c.CaseState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("登记内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("流程记录")
        verbose_name_plural = _("流程记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.get_verb_display()}"


def _attachment_path(instance: CaseAttachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class CaseAttachment(BaseModel):
    """A scanned signature sheet, photo or minutes attached to a case step."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    transition = models.ForeignKey(
        CaseTransition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path)
    kind = models.CharField(
        _("材料类型"),
        max_length=16,
        choices=c.AttachmentKind.choices,
        default=c.AttachmentKind.OTHER,
    )
    title = models.CharField(_("说明"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title


# --- routine work: monthly meeting, quarterly review, yearly campaign ----------------------

QUARTER_VALIDATOR = RegexValidator(r"^20\d{2}Q[1-4]$", _("季度格式为 2026Q4"))


class VillageMeeting(BaseModel):
    """A village's monthly monitoring meeting (月工作会议), held even when nothing is new.

    The agenda (``items``) is filled in from the data when the meeting is recorded and kept
    as it was, so the minutes do not change when the cases and alerts move on.
    """

    village = models.ForeignKey(
        Division, verbose_name=_("行政村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    #: The month the meeting is for, ``YYYYMM`` like the registry's months.
    month = models.CharField(_("会议月份"), max_length=6, validators=[MONTH_VALIDATOR])
    held_on = models.DateField(_("召开日期"))
    attendees = models.TextField(_("参会人员"))
    attendee_count = models.PositiveSmallIntegerField(_("参会人数"))
    summary = models.TextField(_("会议纪要"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("村月工作会议")
        verbose_name_plural = _("村月工作会议")
        ordering = ["-month", "village_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "month"],
                name="%(app_label)s_%(class)s_unique_village_month",
                violation_error_message=_("该村本月的工作会议已登记"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.month[:4]}年{int(self.month[4:])}月工作会议"


class MeetingItem(models.Model):
    """One agenda item: what Shouwang found (a snapshot) and what the meeting decided."""

    meeting = models.ForeignKey(VillageMeeting, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("议题"), max_length=24, choices=rc.AgendaKind.choices)
    count = models.PositiveIntegerField(_("数量"), default=0)
    #: ``[{"text": ..., "type": "household"|"alert"|"lead"|"case", "id": pk}, ...]``
    details = models.JSONField(_("明细"), default=list, blank=True)
    decision = models.TextField(_("研究意见"), blank=True)

    class Meta:
        verbose_name = _("会议议题")
        verbose_name_plural = _("会议议题")
        ordering = ["meeting_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "kind"], name="%(app_label)s_%(class)s_unique_meeting_kind"
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class QuarterlyReview(BaseModel):
    """A quarter's risk review (季度研判) of one monitored household not yet risk-eliminated."""

    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="quarterly_reviews",
    )
    #: ``2026Q4``: the quarter of ``reviewed_on``.
    quarter = models.CharField(_("季度"), max_length=6, validators=[QUARTER_VALIDATOR])
    reviewed_on = models.DateField(_("研判日期"))
    risk_present = models.BooleanField(_("风险仍然存在"))
    plan_needs_change = models.BooleanField(_("帮扶方案需要调整"))
    note = models.TextField(_("研判意见"), blank=True)
    reviewers = models.CharField(_("研判人员"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("季度风险研判")
        verbose_name_plural = _("季度风险研判")
        ordering = ["-quarter", "household_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "quarter"],
                name="%(app_label)s_%(class)s_unique_household_quarter",
                violation_error_message=_("该户本季度已经研判过"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.quarter}"


class Campaign(BaseModel):
    """The yearly campaign (集中排查 / 动态管理) over a county or a township."""

    name = models.CharField(_("名称"), max_length=100)
    scope = models.ForeignKey(
        Division, verbose_name=_("排查范围"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    note = models.TextField(_("工作要求"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("集中排查")
        verbose_name_plural = _("集中排查")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期不能早于开始日期"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignCheck(BaseModel):
    """One household checked in a campaign, with the natural changes applied to the registry."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="checks")
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="campaign_checks",
    )
    #: The household's village when checked: progress is counted per village.
    village = models.ForeignKey(
        Division, verbose_name=_("行政村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    checked_on = models.DateField(_("排查日期"))
    checker = models.CharField(_("排查人"), max_length=100)
    result = models.CharField(_("排查结果"), max_length=16, choices=rc.CheckResult.choices)
    note = models.TextField(_("情况说明"), blank=True)
    #: What was applied: ``[{"change": "birth"|"death"|..., "member_id": pk, "name": ...}]``.
    changes = models.JSONField(_("已更新的人口变动"), default=list, blank=True)
    #: The lead opened for a new risk found in the check.
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("生成的线索"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("排查记录")
        verbose_name_plural = _("排查记录")
        ordering = ["campaign_id", "village_id", "household_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"],
                name="%(app_label)s_%(class)s_unique_campaign_household",
                violation_error_message=_("该户在本次排查中已登记"),
            )
        ]
        indexes = [models.Index(fields=["campaign", "village"], name="campaign_check_village")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.household}"
