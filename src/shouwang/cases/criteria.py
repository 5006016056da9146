"""The risk-elimination criteria (domain.md §4), each shown as met or not before a village
nominates a household and checked again at the district's decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from shouwang.policy.selectors import MissingPolicyValue, policy_value
from shouwang.registry.choices import SOME_LABOUR, RiskType, SchoolStatus
from shouwang.registry.models import Household


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    met: bool
    detail: str


def _months_between(month: str, today: dt.date) -> int | None:
    if len(month) != 6 or not month.isdigit():
        return None
    return (today.year - int(month[:4])) * 12 + today.month - int(month[4:])


def elimination_criteria(household: Household, *, today: dt.date) -> list[Criterion]:
    """Every criterion for ``household`` as of ``today``, in the order the policy lists them."""
    from shouwang.screening.models import Alert
    from shouwang.screening.services import UNRESOLVED

    members = list(household.members.all())
    criteria: list[Criterion] = []

    try:
        line = policy_value("monitoring_line", year=today.year)
    except MissingPolicyValue:
        line = None
    income = household.per_capita_net_income
    criteria.append(
        Criterion(
            "income",
            _("人均纯收入稳定高于当年监测范围"),
            line is not None and income > line,
            _("人均纯收入 %(income)s 元，监测范围 %(line)s 元")
            % {"income": income, "line": f"{line:.2f}" if line is not None else _("未设置")},
        )
    )

    dropouts = [m.name for m in members if m.school_status == SchoolStatus.DROPPED_OUT]
    uninsured = [m.name for m in members if not m.has_basic_medical_insurance]
    problems = []
    if dropouts:
        problems.append(_("失学辍学：%(names)s") % {"names": "、".join(dropouts)})
    if uninsured:
        problems.append(_("未参加基本医疗保险：%(names)s") % {"names": "、".join(uninsured)})
    if not household.housing_secure:
        problems.append(_("住房安全无保障"))
    if not household.drinking_water_secure:
        problems.append(_("饮水安全无保障"))
    criteria.append(
        Criterion(
            "secure",
            _("“三保障”和饮水安全有保障"),
            not problems,
            "；".join(str(p) for p in problems)
            or _("义务教育、基本医疗、住房安全和饮水安全均有保障"),
        )
    )

    open_alerts = list(
        Alert.objects.filter(
            household=household, status__in=UNRESOLVED, risk_type__in=household.risk_types
        ).values_list("risk_type", flat=True)
    )
    labels = dict(RiskType.choices)
    criteria.append(
        Criterion(
            "risks",
            _("识别时的风险已稳定消除，且无新的未处理预警"),
            not open_alerts,
            _("仍有未处理预警：%(risks)s")
            % {"risks": "、".join(sorted({str(labels.get(r, r)) for r in open_alerts}))}
            if open_alerts
            else _("识别风险：%(risks)s，无未处理预警")
            % {"risks": "、".join(household.risk_type_labels()) or _("无")},
        )
    )

    try:
        minimum = int(policy_value("elimination_min_months"))
    except MissingPolicyValue:
        minimum = 0
    months = _months_between(household.identified_month, today)
    criteria.append(
        Criterion(
            "months",
            _("纳入监测已满 %(n)d 个月") % {"n": minimum},
            months is not None and months >= minimum,
            _("识别监测时间 %(month)s，已 %(months)s 个月")
            % {
                "month": household.identified_month or _("未填写"),
                "months": months if months is not None else "—",
            },
        )
    )

    from shouwang.assistance.selectors import delivered_measures

    delivered = sorted({pm.measure.name for pm in delivered_measures(household=household)})
    criteria.append(
        Criterion(
            "measures",
            _("至少落实一项帮扶措施"),
            bool(delivered),
            _("已落实：%(names)s") % {"names": "、".join(delivered)}
            if delivered
            else _("帮扶计划中尚无已落实的措施"),
        )
    )

    with_labour = [m for m in members if m.labour_skill in SOME_LABOUR]
    criteria.append(
        Criterion(
            "labour",
            _("非整户无劳动能力"),
            bool(with_labour),
            _("有劳动能力 %(n)d 人") % {"n": len(with_labour)}
            if with_labour
            else _("整户无劳动能力：落实兜底保障后继续监测，不标注风险消除"),
        )
    )
    return criteria
