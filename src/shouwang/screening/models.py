"""Department feeds, screening rules, runs and the alerts they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.core.choices import Department
from shouwang.core.models import BaseModel
from shouwang.registry.choices import RiskType
from shouwang.screening import choices as c


class FeedSource(BaseModel):
    """What one department hands over, with its column mapping (see ``sources.parse_columns``)."""

    slug = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    department = models.CharField(_("部门"), max_length=32, choices=Department.choices)
    kind = models.CharField(_("数据类别"), max_length=32, choices=c.FeedKind.choices)
    description = models.TextField(_("说明"), blank=True)
    columns = models.JSONField(_("列定义"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    builtin = models.BooleanField(_("系统预置"), default=False)

    class Meta:
        verbose_name = _("数据源")
        verbose_name_plural = _("数据源")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class FeedBatch(BaseModel):
    """One imported file: its counts, rejects and the Parquet file its accepted rows went to."""

    source = models.ForeignKey(
        FeedSource, verbose_name=_("数据源"), on_delete=models.PROTECT, related_name="batches"
    )
    period = models.CharField(_("数据期别"), max_length=7, help_text=_("YYYY-MM"), db_index=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    file_size = models.BigIntegerField(_("文件大小（字节）"), default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.BatchStatus.choices, default=c.BatchStatus.QUEUED
    )
    rows_estimated = models.PositiveBigIntegerField(_("预计行数"), default=0)
    rows_read = models.PositiveBigIntegerField(_("读取行数"), default=0)
    rows_accepted = models.PositiveBigIntegerField(_("接收行数"), default=0)
    rows_rejected = models.PositiveBigIntegerField(_("拒收行数"), default=0)
    #: The first rejected rows, ``{"row", "column", "message"}``, for the page; all are in the rejects file.
    errors = models.JSONField(_("拒收原因（前若干条）"), default=list, blank=True)
    #: Rejected rows per reason, for the summary.
    error_counts = models.JSONField(_("拒收原因统计"), default=dict, blank=True)
    message = models.TextField(_("说明"), blank=True)
    parquet_path = models.CharField(_("暂存文件"), max_length=500, blank=True)
    rejects_path = models.CharField(_("拒收明细文件"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same file is staged once per source; failed attempts may be retried.
            models.UniqueConstraint(
                fields=["source", "file_sha256"],
                condition=models.Q(status="staged"),
                name="screening_batch_staged_once",
                violation_error_message=_("该文件已导入过"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.period} #{self.pk}"

    @property
    def progress_percent(self) -> int:
        if self.status == c.BatchStatus.STAGED:
            return 100
        if not self.rows_estimated:
            return 0
        return min(99, int(self.rows_read * 100 / self.rows_estimated))


class Rule(BaseModel):
    """A screening rule; ``spec`` is the current version (see ``spec.parse_rule_spec``)."""

    slug = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    spec = models.JSONField(_("规则定义"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    active = models.BooleanField(_("启用"), default=True)
    builtin = models.BooleanField(_("系统预置"), default=False)
    # Copied from the spec so lists filter without reading JSON.
    risk_type = models.CharField(_("风险类型"), max_length=32, choices=RiskType.choices)
    severity = models.CharField(_("严重程度"), max_length=8, choices=c.Severity.choices)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class RuleVersion(BaseModel):
    """Every saved state of a rule, so an alert names the exact rule that raised it."""

    rule = models.ForeignKey(
        Rule, verbose_name=_("规则"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    spec = models.JSONField(_("规则定义"))
    active = models.BooleanField(_("启用"))
    note = models.CharField(_("修改说明"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("规则版本")
        verbose_name_plural = _("规则版本")
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "version"], name="screening_rule_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class ScreeningRun(BaseModel):
    engine = models.CharField(_("计算引擎"), max_length=16, choices=c.Engine.choices)
    period = models.CharField(_("比对期别"), max_length=7, help_text=_("YYYY-MM"))
    trigger = models.CharField(_("触发方式"), max_length=16, choices=c.RunTrigger.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.RunStatus.choices, default=c.RunStatus.QUEUED
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: ``{slug: version}`` of the rules run.
    rules = models.JSONField(_("运行的规则"), default=dict)
    #: Ids of the feed batches the run read.
    batches = models.JSONField(_("使用的导入批次"), default=list)
    persons = models.PositiveIntegerField(_("在册人数"), default=0)
    households = models.PositiveIntegerField(_("在册户数"), default=0)
    feed_rows = models.PositiveBigIntegerField(_("部门数据行数"), default=0)
    matches = models.PositiveIntegerField(_("命中数"), default=0)
    alerts_new = models.PositiveIntegerField(_("新增预警"), default=0)
    alerts_existing = models.PositiveIntegerField(_("已有预警（未重复生成）"), default=0)
    #: Per rule: ``{slug: {"matches": n, "new": n, "existing": n, "ms": n}}``; timings per phase.
    counts = models.JSONField(_("分规则统计"), default=dict)
    timings = models.JSONField(_("各阶段耗时（毫秒）"), default=dict)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    message = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("比对运行")
        verbose_name_plural = _("比对运行")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period} {self.engine} #{self.pk}"


class Alert(BaseModel):
    """A rule's finding about a household, or about a person not in the registry."""

    rule = models.ForeignKey(
        Rule, verbose_name=_("规则"), on_delete=models.PROTECT, related_name="alerts"
    )
    rule_version = models.PositiveIntegerField(_("规则版本"))
    run = models.ForeignKey(
        ScreeningRun, verbose_name=_("产生于"), on_delete=models.PROTECT, related_name="alerts"
    )
    #: ``h:<household id>`` or ``p:<person blind index>``: what the alert is about.
    subject_key = models.CharField(_("对象键"), max_length=80)
    #: Hash of the rule, subject and evidence: a rerun over the same data finds the same one.
    fingerprint = models.CharField(_("指纹"), max_length=64)
    #: Alerts of one subject resting on shared feed rows (one hospital stay seen by a monthly
    #: and a 12-month rule) are one item to triage; they share this key (see alerts_group).
    triage_group = models.CharField(_("处理分组"), max_length=64, blank=True, db_index=True)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    member = models.ForeignKey(
        "registry.Member",
        verbose_name=_("家庭成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    person_index = models.CharField(_("人员索引"), max_length=64, blank=True, db_index=True)
    person_name = models.CharField(_("姓名（部门数据）"), max_length=50, blank=True)
    #: The village (or, for unregistered people placed by their ID, the county) it belongs to.
    division = models.ForeignKey(
        "core.Division", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    placed_by = models.CharField(
        _("定位依据"),
        max_length=16,
        choices=[
            ("registry", _("档案")),
            ("feed", _("部门数据地址")),
            ("id_number", _("身份证地址码")),
        ],
        default="registry",
    )
    unregistered = models.BooleanField(_("疑似新增监测对象（未在册）"), default=False)
    after_elimination = models.BooleanField(_("风险消除后继续监测"), default=False)
    risk_type = models.CharField(_("风险类型"), max_length=32, choices=RiskType.choices)
    severity = models.CharField(_("严重程度"), max_length=8, choices=c.Severity.choices)
    period = models.CharField(_("比对期别"), max_length=7)
    value = models.DecimalField(_("统计值"), max_digits=16, decimal_places=2, null=True)
    threshold = models.DecimalField(_("阈值"), max_digits=16, decimal_places=2, null=True)
    comparison = models.CharField(_("比较"), max_length=4, choices=c.Comparison.choices)
    #: ``{"rows": [[batch, row], …], "row_count": n, "threshold": {...}, "window": [...], ...}``
    evidence = models.JSONField(_("依据"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.AlertStatus.choices, default=c.AlertStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办给"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_alerts",
    )
    resolution_note = models.TextField(_("处理说明"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_key", "fingerprint"], name="screening_alert_unique"
            )
        ]
        indexes = [
            models.Index(fields=["division", "status"], name="screening_alert_area_idx"),
            models.Index(fields=["rule", "status"], name="screening_alert_rule_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.subject_key}"
