"""Enumerations of assistance: measure status, where a measure came from, social offers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    IN_PROGRESS = "in_progress", _("实施中")
    DELIVERED = "delivered", _("已落实")
    STOPPED = "stopped", _("已终止")


#: Statuses that still owe delivery: these can be overdue.
OPEN_MEASURE_STATUSES = frozenset({MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS})

#: The moves a measure's status may make; delivered and stopped are final.
STATUS_MOVES = {
    MeasureStatus.PLANNED: frozenset(
        {MeasureStatus.IN_PROGRESS, MeasureStatus.DELIVERED, MeasureStatus.STOPPED}
    ),
    MeasureStatus.IN_PROGRESS: frozenset({MeasureStatus.DELIVERED, MeasureStatus.STOPPED}),
    MeasureStatus.DELIVERED: frozenset(),
    MeasureStatus.STOPPED: frozenset(),
}


class MeasureSource(models.TextChoices):
    RECOMMENDED = "recommended", _("系统推荐")
    MANUAL = "manual", _("干部添加")
    SOCIAL_MATCH = "social_match", _("社会帮扶对接")


class HouseholdLabour(models.TextChoices):
    """The household-level labour *condition* a recommendation rule may ask for. A filter's
    choices, "any" among them: never a household's value (that is HouseholdLabourLevel)."""

    ANY = "any", _("不限")
    CAPABLE = "capable", _("有劳动能力（普通或技能劳动力）")
    NONE = "none", _("整户无劳动能力")


class HouseholdLabourLevel(models.TextChoices):
    """A household's labour capacity as read from its members' labour skills."""

    #: At least one ordinary or skilled worker.
    CAPABLE = "capable", _("有劳动能力")
    #: Weak or half labour only (弱劳动力或半劳动力), nobody fully able to work.
    WEAK = "weak", _("弱劳动能力")
    #: Nobody can work at all (整户无劳动能力).
    NONE = "none", _("无劳动能力")


#: The household labour levels each rule condition admits.
LABOUR_CONDITION_LEVELS: dict[str, frozenset[str]] = {
    HouseholdLabour.ANY: frozenset(HouseholdLabourLevel),
    HouseholdLabour.CAPABLE: frozenset({HouseholdLabourLevel.CAPABLE}),
    HouseholdLabour.NONE: frozenset({HouseholdLabourLevel.NONE}),
}


class OrganisationKind(models.TextChoices):
    COMPANY = "company", _("企业")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    PAIRED_REGION = "paired_region", _("东西部协作单位")
    PUBLIC_INSTITUTION = "public_institution", _("定点帮扶单位")
    INDIVIDUAL = "individual", _("爱心人士")


class Programme(models.TextChoices):
    WANQI_XINGWANCUN = "wanqi_xingwancun", _("万企兴万村")
    LUYU = "luyu", _("鲁渝协作")
    PAIRED_ASSISTANCE = "paired_assistance", _("定点帮扶")
    OTHER = "other", _("其他社会帮扶")


class OfferKind(models.TextChoices):
    JOB = "job", _("就业岗位")
    PURCHASE = "purchase", _("农产品采购（消费帮扶）")
    DONATION = "donation", _("捐赠")
    TRAINING = "training", _("培训名额")


class OfferStatus(models.TextChoices):
    OPEN = "open", _("对接中")
    CLOSED = "closed", _("已结束")


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DECLINED = "declined", _("已放弃")
