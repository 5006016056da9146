"""Proposing a plan from the recommendation rules (data) and a household's profile.

``propose`` is pure: it takes the household, its members and the rules already loaded, so
the table-driven tests and the plan page run the same code. Every proposal names the rule
that made it and says why, in words a cadre can check against the household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from shouwang.assistance.choices import (
    LABOUR_CONDITION_LEVELS,
    HouseholdLabour,
    HouseholdLabourLevel,
)
from shouwang.assistance.models import Measure, RecommendationRule
from shouwang.registry.choices import LABOUR_CAPABLE, SOME_LABOUR, RiskType
from shouwang.registry.models import Household, Member


@dataclass(frozen=True)
class Proposal:
    measure: Measure
    rule: RecommendationRule
    member: Member | None
    reason: str

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.measure.pk, self.member.pk if self.member else None)


def household_labour(members: Sequence[Member]) -> HouseholdLabourLevel:
    """The household's labour capacity: ``capable`` with an ordinary or skilled worker,
    ``weak`` with weak labour only (which still counts as some labour), ``none`` when nobody
    can work at all. A household's value, never a rule condition's "any"."""
    skills = {m.labour_skill for m in members}
    if skills & LABOUR_CAPABLE:
        return HouseholdLabourLevel.CAPABLE
    if skills & SOME_LABOUR:
        return HouseholdLabourLevel.WEAK
    return HouseholdLabourLevel.NONE


def member_fits(rule: RecommendationRule, member: Member, today: dt.date) -> bool:
    age = member.age_on(today)
    if rule.member_age_min is not None and age < rule.member_age_min:
        return False
    if rule.member_age_max is not None and age > rule.member_age_max:
        return False
    if rule.member_school_statuses and member.school_status not in rule.member_school_statuses:
        return False
    if rule.member_health_statuses and member.health_status not in rule.member_health_statuses:
        return False
    return not (rule.member_labour_skills and member.labour_skill not in rule.member_labour_skills)


def _household_fits(
    rule: RecommendationRule, risks: set[str], labour: HouseholdLabourLevel
) -> bool:
    if rule.risk_types and not risks & set(rule.risk_types):
        return False
    admitted = LABOUR_CONDITION_LEVELS.get(rule.household_labour)
    return admitted is None or labour in admitted


def _reason(rule: RecommendationRule, risks: set[str], member: Member | None) -> str:
    parts = []
    matched = [str(RiskType(r).label) for r in rule.risk_types if r in risks]
    if matched:
        parts.append(_("风险：%(risks)s") % {"risks": "、".join(matched)})
    if rule.household_labour == HouseholdLabour.CAPABLE:
        parts.append(_("家庭有劳动能力"))
    elif rule.household_labour == HouseholdLabour.NONE:
        parts.append(_("整户无劳动能力"))
    if member is not None:
        parts.append(
            _("成员 %(name)s（%(health)s，%(school)s，%(labour)s）")
            % {
                "name": member.name,
                "health": member.get_health_status_display(),
                "school": member.get_school_status_display(),
                "labour": member.get_labour_skill_display(),
            }
        )
    if rule.only_without_development:
        parts.append(_("尚无开发式帮扶措施"))
    return "；".join(parts)[:200]


def propose(
    household: Household,
    members: Sequence[Member],
    rules: Iterable[RecommendationRule],
    *,
    today: dt.date,
    planned: Iterable[tuple[Measure, int | None]] = (),
) -> list[Proposal]:
    """The proposals of every active rule, in rule order, for ``household``.

    ``planned`` are the (measure, member id) pairs already in the household's plan (not
    stopped): they are not proposed again, and a development-type one among them keeps the
    ``only_without_development`` rules quiet.
    """
    risks = set(household.risk_types)
    labour = household_labour(members)
    taken = {(m.pk, member_id) for m, member_id in planned}
    has_development = any(m.development for m, _member in planned)
    proposals: list[Proposal] = []
    for rule in sorted(rules, key=lambda r: (r.priority, r.name)):
        if not rule.active or not rule.measure.active:
            continue
        if rule.only_without_development and has_development:
            continue
        if not _household_fits(rule, risks, labour):
            continue
        if rule.has_member_condition:
            fitting = [m for m in members if member_fits(rule, m, today)]
            if not fitting:
                continue
            targets: list[Member | None] = fitting if rule.per_member else [fitting[0]]
        else:
            targets = [None]
        for member in targets:
            member_id = member.pk if (member is not None and rule.per_member) else None
            key = (rule.measure.pk, member_id)
            # Household-wide measures are taken once, whoever they were planned for.
            if key in taken or (member_id is None and any(k[0] == rule.measure.pk for k in taken)):
                continue
            taken.add(key)
            proposals.append(Proposal(rule.measure, rule, member, _reason(rule, risks, member)))
            has_development = has_development or rule.measure.development
    return proposals
