"""The household registry: households (户) and their members (成员)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from shouwang.core.choices import DivisionLevel
from shouwang.core.models import BaseModel, Division
from shouwang.registry import choices as c

MONTH_VALIDATOR = RegexValidator(
    r"^(19|20)\d{2}(0[1-9]|1[0-2])$", _("请按 YYYYMM 填写年月，例如 202403")
)
MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0")}
RISK_FIELDS = ("risk_type_1", "risk_type_2", "risk_type_3", "risk_type_4", "risk_type_5")
INCOME_FIELDS = ("wage_income", "operating_income", "property_income", "transfer_income")


def _risk_field(number: int) -> models.CharField:
    return models.CharField(
        format_lazy("{}{}", _("致贫/返贫风险"), number),
        max_length=32,
        choices=c.RiskType.choices,
        blank=True,
    )


class Grid(BaseModel):
    """A grid (网格) of one village: the grid workers who watch it and the households in it."""

    name = models.CharField(_("网格名称"), max_length=100)
    village = models.ForeignKey(
        Division,
        verbose_name=_("行政村（社区）"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": DivisionLevel.VILLAGE},
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("网格员"), blank=True, related_name="grids"
    )
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["village_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "name"],
                name="registry_grid_unique_name_per_village",
                violation_error_message=_("该行政村已有同名网格"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Household(BaseModel):
    """A household with the household-level fields of the national monitoring-object export.

    ``member_count``, ``head_name`` and ``per_capita_net_income`` are derived from the members
    and incomes; registry services keep them current so lists and screening need no joins.
    """

    household_number = models.CharField(_("户编号"), max_length=32, unique=True)
    village = models.ForeignKey(
        Division,
        verbose_name=_("行政村（社区）"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": DivisionLevel.VILLAGE},
    )
    household_type = models.CharField(
        _("户类型"), max_length=32, choices=c.HouseholdType.choices, db_index=True
    )
    monitoring_category = models.CharField(
        _("监测对象类别"),
        max_length=32,
        choices=c.MonitoringCategory.choices,
        blank=True,
        db_index=True,
    )
    monitoring_status = models.CharField(
        _("监测状态"),
        max_length=32,
        choices=c.MonitoringStatus.choices,
        default=c.MonitoringStatus.NOT_MONITORED,
        db_index=True,
    )
    identified_month = models.CharField(
        _("识别监测时间"), max_length=6, blank=True, validators=[MONTH_VALIDATOR]
    )
    eliminated_month = models.CharField(
        _("消除监测时间"), max_length=6, blank=True, validators=[MONTH_VALIDATOR]
    )
    elimination_method = models.CharField(
        _("风险消除方式"), max_length=16, choices=c.EliminationMethod.choices, blank=True
    )
    risk_type_1 = _risk_field(1)
    risk_type_2 = _risk_field(2)
    risk_type_3 = _risk_field(3)
    risk_type_4 = _risk_field(4)
    risk_type_5 = _risk_field(5)

    phone_encrypted = models.TextField(_("联系电话（密文）"), blank=True)
    phone_index = models.CharField(_("联系电话索引"), max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)

    income_year = models.PositiveSmallIntegerField(
        _("收入年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    wage_income = models.DecimalField(_("工资性收入（元）"), **MONEY)
    operating_income = models.DecimalField(_("生产经营性收入（元）"), **MONEY)
    property_income = models.DecimalField(_("财产性收入（元）"), **MONEY)
    transfer_income = models.DecimalField(_("转移性收入（元）"), **MONEY)
    productive_expenses = models.DecimalField(_("生产经营性支出（元）"), **MONEY)
    compliant_out_of_pocket = models.DecimalField(_("合规自付支出（元）"), **MONEY)
    per_capita_net_income = models.DecimalField(_("人均纯收入（元）"), **MONEY, db_index=True)

    housing_secure = models.BooleanField(_("住房安全有保障"), default=True)
    drinking_water_secure = models.BooleanField(_("饮水安全有保障"), default=True)
    relocated = models.BooleanField(_("易地扶贫搬迁户"), default=False)
    relocation_site = models.CharField(_("安置点"), max_length=100, blank=True)
    relocation_mode = models.CharField(
        _("安置方式"), max_length=16, choices=c.RelocationMode.choices, blank=True
    )

    grid_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("网格员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_households",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    member_count = models.PositiveSmallIntegerField(_("家庭人口"), default=0)
    head_name = models.CharField(_("户主姓名"), max_length=50, blank=True, db_index=True)

    class Meta:
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        ordering = ["household_number"]
        indexes = [
            models.Index(fields=["village", "household_number"], name="registry_hh_village_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(monitoring_status=c.MonitoringStatus.NOT_MONITORED)
                | ~Q(monitoring_category=""),
                name="registry_household_monitored_has_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_number} {self.head_name}".strip()

    @property
    def risk_types(self) -> list[str]:
        return [v for v in (getattr(self, f) for f in RISK_FIELDS) if v]

    def risk_type_labels(self) -> list[str]:
        labels = dict(c.RiskType.choices)
        return [str(labels[v]) for v in self.risk_types]

    @property
    def total_income(self) -> Decimal:
        return sum((getattr(self, f) for f in INCOME_FIELDS), Decimal("0"))

    @property
    def net_income(self) -> Decimal:
        return self.total_income - self.productive_expenses

    def compute_per_capita_net_income(self, member_count: int) -> Decimal:
        if member_count <= 0:
            return Decimal("0.00")
        return (self.net_income / member_count).quantize(Decimal("0.01"))

    @property
    def per_capita_after_spending(self) -> Decimal:
        """Per-capita net income less compliant out-of-pocket spending: the figure that
        identification and risk elimination both compare with the monitoring line."""
        if self.member_count <= 0:
            return Decimal("0.00")
        return ((self.net_income - self.compliant_out_of_pocket) / self.member_count).quantize(
            Decimal("0.01")
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        risks = self.risk_types
        if len(set(risks)) != len(risks):
            errors["risk_type_1"] = _("致贫/返贫风险不能重复")
        monitored = self.monitoring_status != c.MonitoringStatus.NOT_MONITORED
        if monitored and not self.monitoring_category:
            errors["monitoring_category"] = _("已纳入监测的农户必须填写监测对象类别")
        if self.monitoring_category and not monitored:
            errors["monitoring_status"] = _("填写了监测对象类别，监测状态不能为“未纳入监测”")
        if self.monitoring_category == c.MonitoringCategory.UNSTABLE_EXITED and (
            self.household_type != c.HouseholdType.POVERTY_EXITED
        ):
            errors["household_type"] = _("脱贫不稳定户的户类型应为脱贫户")
        if self.monitoring_category == c.MonitoringCategory.MARGINAL and (
            self.household_type == c.HouseholdType.POVERTY_EXITED
        ):
            errors["household_type"] = _("边缘易致贫户不能是脱贫户")
        if self.household_type == c.HouseholdType.MONITORED and not self.monitoring_category:
            errors["monitoring_category"] = _("户类型为监测户时必须填写监测对象类别")
        if self.household_type == c.HouseholdType.ORDINARY and self.monitoring_category:
            errors["household_type"] = _("已纳入监测的非脱贫户，户类型应为监测户")
        if monitored and not self.identified_month:
            errors["identified_month"] = _("已纳入监测的农户必须填写识别监测时间")
        if monitored and not risks:
            errors["risk_type_1"] = _("已纳入监测的农户至少填写一项致贫/返贫风险")
        if self.monitoring_status == c.MonitoringStatus.RISK_ELIMINATED:
            if not self.eliminated_month:
                errors["eliminated_month"] = _("风险已消除的农户必须填写消除监测时间")
            if not self.elimination_method:
                errors["elimination_method"] = _("风险已消除的农户必须填写风险消除方式")
            if (
                self.eliminated_month
                and self.identified_month
                and self.eliminated_month < self.identified_month
            ):
                errors["eliminated_month"] = _("消除监测时间不能早于识别监测时间")
        elif self.eliminated_month or self.elimination_method:
            errors["monitoring_status"] = _("风险未消除的农户不应填写消除时间或消除方式")
        if self.relocated and not self.relocation_site:
            errors["relocation_site"] = _("易地扶贫搬迁户必须填写安置点")
        if self.relocated and not self.relocation_mode:
            errors["relocation_mode"] = _("易地扶贫搬迁户必须填写安置方式")
        if not self.relocated and (self.relocation_site or self.relocation_mode):
            errors["relocated"] = _("填写了安置点或安置方式，请勾选易地扶贫搬迁户")
        if self.village_id and not re.fullmatch(r"\d{12}", self.village_id):
            errors["village"] = _("行政村代码应为 12 位")
        if errors:
            raise ValidationError(errors)


class Member(BaseModel):
    """A household member with the person-level fields of the national export.

    The ID number is stored encrypted, with a blind index for exact search and a masked copy for
    display; sex and birth date are derived from it.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("所属农户"), on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    id_number_encrypted = models.TextField(_("证件号码（密文）"))
    id_number_index = models.CharField(_("证件号码索引"), max_length=64, unique=True)
    id_number_masked = models.CharField(_("证件号码"), max_length=18)
    sex = models.CharField(_("性别"), max_length=8, choices=c.Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    relation = models.CharField(_("与户主关系"), max_length=32, choices=c.Relation.choices)
    ethnicity = models.CharField(
        _("民族"), max_length=4, choices=c.Ethnicity.choices, default=c.Ethnicity.HAN
    )
    education = models.CharField(_("文化程度"), max_length=32, choices=c.Education.choices)
    school_status = models.CharField(
        _("在校生状况"),
        max_length=32,
        choices=c.SchoolStatus.choices,
        default=c.SchoolStatus.NOT_IN_SCHOOL,
    )
    health_status = models.CharField(
        _("健康状况"), max_length=32, choices=c.HealthStatus.choices, default=c.HealthStatus.HEALTHY
    )
    disability_grade = models.CharField(
        _("残疾等级"), max_length=2, choices=c.DisabilityGrade.choices, blank=True
    )
    disability_type = models.CharField(
        _("残疾类别"), max_length=16, choices=c.DisabilityType.choices, blank=True
    )
    labour_skill = models.CharField(
        _("劳动技能"), max_length=16, choices=c.LabourSkill.choices, db_index=True
    )
    employment_status = models.CharField(
        _("务工状况"),
        max_length=32,
        choices=c.EmploymentStatus.choices,
        default=c.EmploymentStatus.NOT_WORKING,
    )
    months_employed = models.PositiveSmallIntegerField(
        _("务工时间（月）"), default=0, validators=[MaxValueValidator(12)]
    )
    has_basic_medical_insurance = models.BooleanField(_("参加城乡居民基本医疗保险"), default=True)
    has_critical_illness_insurance = models.BooleanField(_("参加大病保险"), default=True)
    has_pension_insurance = models.BooleanField(_("参加城乡居民基本养老保险"), default=False)
    social_assistance = models.CharField(
        _("享受低保/特困供养政策"),
        max_length=16,
        choices=c.SocialAssistance.choices,
        default=c.SocialAssistance.NONE,
    )

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation=c.Relation.HEAD),
                name="registry_member_one_head_per_household",
                violation_error_message=_("每户只能有一名户主"),
            ),
            models.CheckConstraint(
                condition=Q(months_employed__lte=12), name="registry_member_months_employed_max_12"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: dt.date) -> int:
        """Full years of age on ``day``."""
        birth = self.birth_date
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.health_status == c.HealthStatus.DISABLED and not self.disability_grade:
            errors["disability_grade"] = _("健康状况为残疾时必须填写残疾等级")
        if self.disability_grade and self.health_status != c.HealthStatus.DISABLED:
            errors["health_status"] = _("填写了残疾等级，健康状况应为残疾")
        if self.employment_status == c.EmploymentStatus.NOT_WORKING and self.months_employed:
            errors["months_employed"] = _("未务工人员的务工时间应为 0")
        if errors:
            raise ValidationError(errors)


class ImportJobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    VALIDATING = "validating", _("正在校验")
    IMPORTING = "importing", _("正在导入")
    SUCCEEDED = "succeeded", _("导入成功")
    REJECTED = "rejected", _("校验未通过，未导入")
    FAILED = "failed", _("出错")


class ImportJob(BaseModel):
    """One registry import (page or command): its file, progress, outcome and every bad row."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    dry_run = models.BooleanField(_("仅校验"), default=False)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ImportJobStatus.choices,
        default=ImportJobStatus.PENDING,
        db_index=True,
    )
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
