"""Assistance (精准帮扶): the measure catalogue, the recommendation rules, each monitored
household's plan with its measures and their delivery, and social-help offers and matches.

Writes go through ``assistance.services`` (catalogue, rules, plans, delivery) and
``assistance.social_services`` (offers and matches); every write leaves an audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.assistance import choices as c
from shouwang.core.choices import Department
from shouwang.core.models import BaseModel, Division
from shouwang.registry.choices import HealthStatus, LabourSkill, RiskType, SchoolStatus


def _unknown_values(values: object, choices: type) -> list[str]:
    """The entries of a JSON list field that are not values of ``choices``."""
    if not isinstance(values, list):
        return [str(values)]
    allowed = set(choices.values)
    return [str(v) for v in values if v not in allowed]


class MeasureGroup(BaseModel):
    """One of the national system's measure groups (产业帮扶, 健康帮扶, …).

    ``covers_risk_types`` are the risk types a measure of this group answers (domain.md §6's
    matching checks); the consistency report reads them.
    """

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("措施类别"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    covers_risk_types = models.JSONField(_("对应风险类型"), default=list, blank=True)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("措施类别")
        verbose_name_plural = _("措施类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = _unknown_values(self.covers_risk_types, RiskType)
        if unknown:
            raise ValidationError(
                {"covers_risk_types": _("未知的风险类型：%(v)s") % {"v": "、".join(unknown)}}
            )


class Measure(BaseModel):
    """A concrete measure of the catalogue (医疗救助, 小额信贷, 公益性岗位, …)."""

    group = models.ForeignKey(
        MeasureGroup, verbose_name=_("措施类别"), on_delete=models.PROTECT, related_name="measures"
    )
    name = models.CharField(_("措施名称"), max_length=100)
    department = models.CharField(_("责任部门"), max_length=32, choices=Department.choices)
    #: 开发式帮扶: industry, employment, credit, public-welfare jobs for those who can work.
    development = models.BooleanField(_("开发式帮扶"), default=False)
    #: 兜底保障: 低保, 特困供养 and the like, for those who cannot.
    backstop = models.BooleanField(_("兜底保障"), default=False)
    unit = models.CharField(
        _("计量单位"), max_length=16, blank=True, help_text=_("如 元、人次、天")
    )
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["group__sort_order", "group__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "name"],
                name="assistance_measure_group_name_uniq",
                violation_error_message=_("该类别下已有同名措施"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.group.name} · {self.name}"


class RecommendationRule(BaseModel):
    """A rule proposing one catalogue measure for households that fit its conditions.

    Conditions are fields an administrator fills in, not code: the household has any of
    ``risk_types`` (empty: any household), its labour fits ``household_labour``, and, when
    any member condition is set, at least one member fits all of them (age, school status,
    health status, labour skill). ``per_member`` proposes the measure once per fitting
    member (雨露计划 for each student); ``only_without_development`` fires only when nothing
    proposed or planned so far is development-type, which keeps labour-capable households
    off backstop-only plans. Rules run in ``priority`` order; a measure is proposed once.
    """

    name = models.CharField(_("规则名称"), max_length=100, unique=True)
    description = models.TextField(_("说明"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100, help_text=_("小者先行"))
    risk_types = models.JSONField(_("风险类型（任一）"), default=list, blank=True)
    household_labour = models.CharField(
        _("家庭劳动能力"),
        max_length=16,
        choices=c.HouseholdLabour.choices,
        default=c.HouseholdLabour.ANY,
    )
    member_age_min = models.PositiveSmallIntegerField(_("成员年龄不小于"), null=True, blank=True)
    member_age_max = models.PositiveSmallIntegerField(_("成员年龄不大于"), null=True, blank=True)
    member_school_statuses = models.JSONField(_("成员在校生状况（任一）"), default=list, blank=True)
    member_health_statuses = models.JSONField(_("成员健康状况（任一）"), default=list, blank=True)
    member_labour_skills = models.JSONField(_("成员劳动技能（任一）"), default=list, blank=True)
    per_member = models.BooleanField(_("按符合条件的成员逐人推荐"), default=False)
    only_without_development = models.BooleanField(_("仅在尚无开发式措施时推荐"), default=False)
    measure = models.ForeignKey(
        Measure, verbose_name=_("推荐措施"), on_delete=models.PROTECT, related_name="rules"
    )

    class Meta:
        verbose_name = _("推荐规则")
        verbose_name_plural = _("推荐规则")
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for name, choices in (
            ("risk_types", RiskType),
            ("member_school_statuses", SchoolStatus),
            ("member_health_statuses", HealthStatus),
            ("member_labour_skills", LabourSkill),
        ):
            unknown = _unknown_values(getattr(self, name), choices)
            if unknown:
                errors[name] = _("未知的取值：%(v)s") % {"v": "、".join(unknown)}
        if errors:
            raise ValidationError(errors)

    @property
    def has_member_condition(self) -> bool:
        return bool(
            self.member_age_min is not None
            or self.member_age_max is not None
            or self.member_school_statuses
            or self.member_health_statuses
            or self.member_labour_skills
        )


class Plan(BaseModel):
    """A monitored household's assistance plan (帮扶计划): the measures accepted for it."""

    household = models.OneToOneField(
        "registry.Household",
        verbose_name=_("农户"),
        # The plan and its delivery are the household's assistance record: kept, like cases.
        on_delete=models.PROTECT,
        related_name="assistance_plan",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("确认时间"))
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("帮扶计划")
        verbose_name_plural = _("帮扶计划")

    def __str__(self) -> str:
        return f"{self.household} 帮扶计划"


class PlanMeasure(BaseModel):
    """One measure in a plan, with who delivers it, when, how much, and how far it got."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("帮扶计划"), on_delete=models.CASCADE, related_name="measures"
    )
    measure = models.ForeignKey(
        Measure, verbose_name=_("措施"), on_delete=models.PROTECT, related_name="+"
    )
    #: The member the measure is for (a student, a patient), or none for the household.
    member = models.ForeignKey(
        "registry.Member",
        verbose_name=_("受益成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        _("来源"), max_length=16, choices=c.MeasureSource.choices, default=c.MeasureSource.MANUAL
    )
    rule = models.ForeignKey(
        RecommendationRule,
        verbose_name=_("推荐规则"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The rule's name and why it proposed the measure, kept as written then: the rule may
    #: change or go later.
    rule_name = models.CharField(_("推荐规则名称"), max_length=100, blank=True)
    reason = models.CharField(_("推荐理由"), max_length=200, blank=True)
    department = models.CharField(_("责任部门"), max_length=32, choices=Department.choices)
    responsible_person = models.CharField(_("责任人"), max_length=50, blank=True)
    planned_start = models.DateField(_("计划开始日期"))
    planned_end = models.DateField(_("计划完成日期"))
    actual_start = models.DateField(_("实际开始日期"), null=True, blank=True)
    actual_end = models.DateField(_("实际完成日期"), null=True, blank=True)
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    quantity = models.DecimalField(
        _("数量"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=c.MeasureStatus.choices, default=c.MeasureStatus.PLANNED
    )
    status_note = models.CharField(_("落实情况说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("计划措施")
        verbose_name_plural = _("计划措施")
        ordering = ["planned_end", "id"]
        indexes = [
            models.Index(fields=["department", "status"], name="assistance_pm_dept_status_idx"),
            models.Index(fields=["status", "planned_end"], name="assistance_pm_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="assistance_pm_planned_order",
                violation_error_message=_("计划完成日期不能早于计划开始日期"),
            ),
            models.CheckConstraint(
                condition=~models.Q(status="delivered") | models.Q(actual_end__isnull=False),
                name="assistance_pm_delivered_has_end",
                violation_error_message=_("已落实的措施须填写实际完成日期"),
            ),
        ]

    def __str__(self) -> str:
        return self.measure.name


class SocialOffer(BaseModel):
    """An organisation's offer of help: jobs, produce purchases, donations, training places."""

    organisation = models.CharField(_("帮扶主体"), max_length=100)
    organisation_kind = models.CharField(
        _("主体类型"), max_length=24, choices=c.OrganisationKind.choices
    )
    programme = models.CharField(
        _("帮扶行动"), max_length=24, choices=c.Programme.choices, default=c.Programme.OTHER
    )
    kind = models.CharField(_("帮扶类型"), max_length=16, choices=c.OfferKind.choices)
    #: The catalogue measure a confirmed match becomes.
    measure = models.ForeignKey(
        Measure, verbose_name=_("对应措施"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("帮扶内容"), max_length=100)
    description = models.TextField(_("详细说明"), blank=True)
    #: Where the help is offered; empty for outside the loaded divisions (e.g. 鲁渝协作 jobs
    #: in Shandong), which counts as farthest when matching.
    division = models.ForeignKey(
        Division,
        verbose_name=_("帮扶地点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place_note = models.CharField(_("地点说明"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("可帮扶户数"), validators=[MinValueValidator(1)])
    amount_per_household = models.DecimalField(
        _("每户金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    contact = models.CharField(_("联系人及电话"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.OfferStatus.choices, default=c.OfferStatus.OPEN
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("社会帮扶资源")
        verbose_name_plural = _("社会帮扶资源")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation}：{self.title}"


class SocialMatch(BaseModel):
    """A proposed pairing of an offer with a household whose plan needs that kind of help."""

    offer = models.ForeignKey(
        SocialOffer, verbose_name=_("帮扶资源"), on_delete=models.CASCADE, related_name="matches"
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.CASCADE,
        related_name="social_matches",
    )
    #: The plan measure that showed the need.
    need = models.ForeignKey(
        PlanMeasure,
        verbose_name=_("对应需求"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Steps apart in the division tree: 0 same village … 4 same province, 5 farther.
    distance = models.PositiveSmallIntegerField(_("距离"))
    status = models.CharField(
        _("状态"), max_length=16, choices=c.MatchStatus.choices, default=c.MatchStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    #: The measure the confirmed match became.
    plan_measure = models.OneToOneField(
        PlanMeasure,
        verbose_name=_("形成的措施"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="social_match",
    )

    class Meta:
        verbose_name = _("社会帮扶对接")
        verbose_name_plural = _("社会帮扶对接")
        ordering = ["distance", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "household"],
                name="assistance_match_offer_household_uniq",
                violation_error_message=_("该农户已与此帮扶资源对接"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.offer} → {self.household}"
