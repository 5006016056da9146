"""Enumerations of leads and cases; labels are the words village and township staff use."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadChannel(models.TextChoices):
    """How a possible monitoring object came to notice (domain.md §4, discovery channels)."""

    SELF_APPLICATION = "self_application", _("农户自主申报")
    HOME_VISIT = "home_visit", _("干部走访排查")
    WHISTLEBLOWER = "whistleblower", _("吹哨人报告")
    DEPARTMENT_ALERT = "department_alert", _("部门筛查预警")
    MEDIA = "media", _("媒体报道")
    PETITION = "petition", _("信访")


class LeadStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    CASE_OPENED = "case_opened", _("已启动识别")
    MERGED = "merged", _("已合并")
    CLOSED = "closed", _("已关闭")


class CaseKind(models.TextChoices):
    IDENTIFICATION = "identification", _("监测对象识别")
    ELIMINATION = "elimination", _("风险消除")


class CaseState(models.TextChoices):
    """Steps of the six-step identification and five-step elimination procedures."""

    APPLICATION = "application", _("待农户申请")
    NOMINATION = "nomination", _("待村（社区）提名")
    VERIFICATION = "verification", _("待入户核实")
    VILLAGE_REVIEW = "village_review", _("待村级评议")
    NOTICE = "notice", _("公示中")
    TOWNSHIP_REVIEW = "township_review", _("待乡镇（街道）审核")
    DISTRICT_DECISION = "district_decision", _("待区县审定")
    APPROVED = "approved", _("审定通过")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤销")


class CaseVerb(models.TextChoices):
    APPLY = "apply", _("登记农户申请")
    NOMINATE = "nominate", _("村（社区）提名")
    VERIFY = "verify", _("登记入户核实")
    REVIEW = "review", _("村级评议通过并公示")
    REVIEW_REJECT = "review_reject", _("村级评议未通过")
    OBJECT = "object", _("登记公示异议")
    CLOSE_NOTICE = "close_notice", _("公示期满无异议")
    TOWNSHIP_APPROVE = "township_approve", _("乡镇审核同意")
    TOWNSHIP_RETURN = "township_return", _("乡镇退回重新核实")
    TOWNSHIP_REJECT = "township_reject", _("乡镇审核不同意")
    APPROVE = "approve", _("区县审定通过")
    DISTRICT_RETURN = "district_return", _("区县退回乡镇")
    REJECT = "reject", _("区县审定不通过")
    WITHDRAW = "withdraw", _("撤销")


class ActingLevel(models.TextChoices):
    """Who acts at a step: the village, the township or the district, within their area."""

    VILLAGE = "village", _("村（社区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    DISTRICT = "district", _("区县")


class AttachmentKind(models.TextChoices):
    """What a case's attachment is; some steps require one (``workflow.REQUIRED_ATTACHMENTS``)."""

    VISIT_RECORD = "visit_record", _("入户核实记录（签字）")
    REVIEW_MINUTES = "review_minutes", _("村级评议会议记录")
    NOTICE_PHOTO = "notice_photo", _("公示照片")
    OTHER = "other", _("其他材料")


class ReviewResult(models.TextChoices):
    AGREED = "agreed", _("同意")
    DISAGREED = "disagreed", _("不同意")
