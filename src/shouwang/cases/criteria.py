"""The risk-elimination criteria (domain.md §4), each shown as met or not before a village
nominates a household, at the home visit and again at the township's and district's
decisions.

Every criterion is judged on figures the same record holds and shows: the income figure is the
case's verified per-capita income after compliant out-of-pocket spending once a home visit has
recorded it (the registry's same figure before that), a risk held by a registry flag counts as
eliminated only while the flag says so, and the detail text prints the very numbers compared.
``elimination_criteria_many`` reads what a list of households needs in a fixed number of
queries, so lists can show and filter by the criteria.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from shouwang.cases.hooks import delivered_measure_names
from shouwang.core.months import month_label
from shouwang.policy.selectors import MissingPolicyValue, policy_value
from shouwang.registry.choices import (
    RISK_REGISTRY_FLAGS,
    SOME_LABOUR,
    RiskType,
    SchoolStatus,
)
from shouwang.registry.models import Household, Member
from shouwang.screening.models import Alert
from shouwang.screening.services import UNRESOLVED


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    met: bool
    detail: str


@dataclass(frozen=True)
class IncomeFigure:
    """The per-capita income after compliant spending a check judges, and where it is from."""

    amount: Decimal
    source: str


@dataclass
class HouseholdFacts:
    """What the criteria read besides the household row, gathered for many at once."""

    members: list[Member] = field(default_factory=list)
    open_alert_risks: set[str] = field(default_factory=set)
    delivered_measures: set[str] = field(default_factory=set)


def registry_income(household: Household) -> IncomeFigure:
    return IncomeFigure(household.per_capita_after_spending, _("农户档案"))


def verified_income(amount: Decimal) -> IncomeFigure:
    return IncomeFigure(amount, _("入户核实"))


def months_between(month: str, today: dt.date) -> int | None:
    if len(month) != 6 or not month.isdigit():
        return None
    return (today.year - int(month[:4])) * 12 + today.month - int(month[4:])


def household_facts(households: Iterable[Household]) -> dict[int, HouseholdFacts]:
    """Members, unresolved alerts on the identified risks, and delivered measures of every
    household given: three queries whatever their number."""
    by_id = {h.pk: h for h in households}
    facts = {pk: HouseholdFacts() for pk in by_id}
    if not by_id:
        return facts
    for member in Member.objects.filter(household_id__in=by_id).order_by("household_id", "id"):
        facts[member.household_id].members.append(member)
    for household_id, risk in Alert.objects.filter(
        household_id__in=by_id, status__in=UNRESOLVED
    ).values_list("household_id", "risk_type"):
        if risk in by_id[household_id].risk_types:
            facts[household_id].open_alert_risks.add(risk)
    for household_id, names in delivered_measure_names(list(by_id)).items():
        facts[household_id].delivered_measures.update(names)
    return facts


@dataclass
class PolicyFigures:
    """The monitoring line and minimum months per village, each looked up once."""

    today: dt.date
    _lines: dict[str, Decimal | None] = field(default_factory=dict)
    _months: dict[str, int] = field(default_factory=dict)

    def line(self, village_code: str) -> Decimal | None:
        if village_code not in self._lines:
            try:
                self._lines[village_code] = policy_value(
                    "monitoring_line", year=self.today.year, division_code=village_code
                )
            except MissingPolicyValue:
                self._lines[village_code] = None
        return self._lines[village_code]

    def minimum_months(self, village_code: str) -> int:
        if village_code not in self._months:
            try:
                value = int(policy_value("elimination_min_months", division_code=village_code))
            except MissingPolicyValue:
                value = 0
            self._months[village_code] = value
        return self._months[village_code]


def _income_criterion(income: IncomeFigure, line: Decimal | None) -> Criterion:
    met = line is not None and income.amount > line
    if line is None:
        verdict = _("当年监测范围未设置")
    elif met:
        verdict = _("高于监测范围")
    else:
        verdict = _("未高于监测范围")
    return Criterion(
        "income",
        _("人均纯收入（扣除合规自付支出）稳定高于当年监测范围"),
        met,
        _(
            "%(source)s人均纯收入（扣除合规自付支出）%(income)s 元，监测范围 %(line)s 元，%(verdict)s"
        )
        % {
            "source": income.source,
            "income": f"{income.amount:.2f}",
            "line": f"{line:.2f}" if line is not None else "—",
            "verdict": verdict,
        },
    )


def _secure_criterion(household: Household, members: list[Member]) -> Criterion:
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
    return Criterion(
        "secure",
        _("“三保障”和饮水安全有保障"),
        not problems,
        "；".join(problems) or _("义务教育、基本医疗、住房安全和饮水安全均有保障"),
    )


def _risks_criterion(household: Household, facts: HouseholdFacts) -> Criterion:
    labels = dict(RiskType.choices)
    flag_labels = {f.name: f.verbose_name for f in Household._meta.fields}
    problems = []
    for risk in household.risk_types:
        flag = RISK_REGISTRY_FLAGS.get(risk)
        if flag is not None and not getattr(household, flag):
            problems.append(
                _("识别风险“%(risk)s”仍在：农户档案“%(flag)s”为“否”")
                % {"risk": labels[risk], "flag": flag_labels[flag]}
            )
    if facts.open_alert_risks:
        problems.append(
            _("仍有未处理预警：%(risks)s")
            % {"risks": "、".join(sorted(str(labels.get(r, r)) for r in facts.open_alert_risks))}
        )
    return Criterion(
        "risks",
        _("识别时的风险已稳定消除，且无新的未处理预警"),
        not problems,
        "；".join(problems)
        or _("识别风险：%(risks)s，档案记载均已消除，无未处理预警")
        % {"risks": "、".join(household.risk_type_labels()) or _("无")},
    )


def _months_criterion(household: Household, minimum: int, today: dt.date) -> Criterion:
    months = months_between(household.identified_month, today)
    return Criterion(
        "months",
        _("纳入监测已满 %(n)d 个月") % {"n": minimum},
        months is not None and months >= minimum,
        _("%(month)s纳入监测，已满 %(months)d 个月")
        % {"month": month_label(household.identified_month), "months": months}
        if months is not None
        else _("识别监测时间未填写"),
    )


def _measures_criterion(facts: HouseholdFacts) -> Criterion:
    delivered = sorted(facts.delivered_measures)
    return Criterion(
        "measures",
        _("至少落实一项帮扶措施"),
        bool(delivered),
        _("已落实 %(n)d 项：%(names)s") % {"n": len(delivered), "names": "、".join(delivered)}
        if delivered
        else _("帮扶计划中尚无已落实的措施（0 项）"),
    )


def _labour_criterion(members: list[Member]) -> Criterion:
    with_labour = [m for m in members if m.labour_skill in SOME_LABOUR]
    return Criterion(
        "labour",
        _("非整户无劳动能力"),
        bool(with_labour),
        _("%(total)d 人中有劳动能力 %(n)d 人") % {"total": len(members), "n": len(with_labour)}
        if with_labour
        else _("整户无劳动能力：落实兜底保障后继续监测，不标注风险消除"),
    )


def criteria_for(
    household: Household,
    *,
    facts: HouseholdFacts,
    policy: PolicyFigures,
    income: IncomeFigure | None = None,
) -> list[Criterion]:
    """Every criterion for ``household``, in the order the policy lists them; ``income`` is
    the figure to judge (the case's verified one), the registry's when None."""
    village = household.village_id
    return [
        _income_criterion(income or registry_income(household), policy.line(village)),
        _secure_criterion(household, facts.members),
        _risks_criterion(household, facts),
        _months_criterion(household, policy.minimum_months(village), policy.today),
        _measures_criterion(facts),
        _labour_criterion(facts.members),
    ]


def elimination_criteria(
    household: Household, *, today: dt.date, income: IncomeFigure | None = None
) -> list[Criterion]:
    """The criteria of one household as of ``today``."""
    facts = household_facts([household])[household.pk]
    return criteria_for(household, facts=facts, policy=PolicyFigures(today), income=income)


def case_income(case: object) -> IncomeFigure | None:
    """The figure a case's home visit verified, or None before its visit."""
    amount = getattr(case, "per_capita_net_income", None)
    return verified_income(amount) if amount is not None else None


def elimination_criteria_many(
    households: Iterable[Household],
    *,
    today: dt.date,
    incomes: dict[int, IncomeFigure] | None = None,
) -> dict[int, list[Criterion]]:
    """The criteria of every household given, by household id."""
    households = list(households)
    facts = household_facts(households)
    policy = PolicyFigures(today)
    incomes = incomes or {}
    return {
        h.pk: criteria_for(h, facts=facts[h.pk], policy=policy, income=incomes.get(h.pk))
        for h in households
    }


def all_met(criteria: list[Criterion]) -> bool:
    return all(c.met for c in criteria)


def unmet_labels(criteria: list[Criterion]) -> list[str]:
    return [c.label for c in criteria if not c.met]
