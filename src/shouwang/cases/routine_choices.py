"""Enumerations of the routine work: the monthly village meeting, the quarterly risk review
and the yearly campaign. Labels are the words village and township staff use."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgendaKind(models.TextChoices):
    """The items Shouwang puts on a monthly meeting's agenda (plan ch.4, 月工作会议)."""

    NEW_LEADS = "new_leads", _("新发现的风险线索")
    OPEN_CASES = "open_cases", _("在办的识别/消除流程")
    ALERTS = "alerts", _("未处理的部门比对预警")
    ELIMINATIONS_DUE = "eliminations_due", _("满足风险消除条件、可研究提名的监测对象")
    OVERDUE_MEASURES = "overdue_measures", _("逾期帮扶措施")
    # The plan asks for the meeting even when nothing is new: the monitor reports.
    MONITOR_REPORT = "monitor_report", _("监测员监测工作汇报")


class CheckResult(models.TextChoices):
    NO_CHANGE = "no_change", _("无变化")
    CHANGE_FOUND = "change_found", _("有变化（已更新档案）")
    NEW_RISK = "new_risk", _("发现新的返贫致贫风险")


class MemberRemovalReason(models.TextChoices):
    """Natural decreases of a household (人口自然减少)."""

    DEATH = "death", _("死亡")
    MOVE_OUT = "move_out", _("迁出")
    MARRIAGE_OUT = "marriage_out", _("嫁出/入赘他户")


class MemberAdditionReason(models.TextChoices):
    """Natural increases of a household (人口自然增加)."""

    BIRTH = "birth", _("出生")
    MARRIAGE_IN = "marriage_in", _("婚入")
    MOVE_IN = "move_in", _("迁入")


#: Labels of the changes a campaign check applied (``CampaignCheck.changes``).
APPLIED_CHANGE_LABELS = {
    **dict(MemberRemovalReason.choices),
    **dict(MemberAdditionReason.choices),
    "new_head": _("新户主"),
}
