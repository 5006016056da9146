"""Writes of assistance: the catalogue, the recommendation rules, plans and delivery.

Every function takes an explicit ``actor`` (None for commands and system jobs), runs in one
transaction, checks role and area, validates with ``full_clean`` and writes an audit row.
Messages are for the user, in Chinese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.assistance import permissions as perms
from shouwang.assistance.choices import (
    OPEN_MEASURE_STATUSES,
    STATUS_MOVES,
    MeasureSource,
    MeasureStatus,
)
from shouwang.assistance.models import (
    Measure,
    MeasureGroup,
    Plan,
    PlanMeasure,
    RecommendationRule,
)
from shouwang.core.audit import (
    audit_record,
    household_subject,
    model_snapshot,
    stored_actor,
    subject_key,
)
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied, full_clean_or_refuse
from shouwang.core.jurisdiction import division_in_area
from shouwang.core.models import User
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.models import Household, Member

#: Days from acceptance to a measure's planned completion when the cadre gives none.
DEFAULT_PLAN_DAYS = 90

GROUP_FIELDS = ("code", "name", "sort_order", "covers_risk_types", "description")
MEASURE_FIELDS = (
    "group",
    "name",
    "department",
    "development",
    "backstop",
    "unit",
    "active",
    "description",
)
RULE_FIELDS = (
    "name",
    "description",
    "active",
    "priority",
    "risk_types",
    "household_labour",
    "member_age_min",
    "member_age_max",
    "member_school_statuses",
    "member_health_statuses",
    "member_labour_skills",
    "per_member",
    "only_without_development",
    "measure",
)
#: What planners may change on a plan measure; status has its own service.
PLAN_MEASURE_FIELDS = (
    "department",
    "responsible_person",
    "planned_start",
    "planned_end",
    "amount",
    "quantity",
    "status_note",
)
#: What a delivery update may set besides the status.
PROGRESS_FIELDS = ("actual_start", "actual_end", "amount", "quantity", "status_note")


def _set(obj: Any, data: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            _("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))}
        )
    for name, value in data.items():
        setattr(obj, name, value)


def _require(check: bool, message: str) -> None:
    if not check:
        raise PermissionDenied(message)


def _save_audited(actor: User | None, obj: Any, before: dict | None, *, subject: str = "") -> None:
    obj.save()
    after = model_snapshot(obj)
    if before == after:
        return
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        target=obj,
        before=before,
        after=after,
        subject=subject or subject_key(obj),
    )


# ---------------------------------------------------------------------------------------------
# Catalogue and rules (district administrators)


@transaction.atomic
def measure_group_save(
    *, actor: User | None, data: dict[str, Any], group: MeasureGroup | None = None
) -> MeasureGroup:
    _require(perms.can_edit_catalogue(actor), _("只有区县管理员可以维护帮扶措施目录"))
    # A fresh, locked copy: a refused change leaves the caller's object as it was.
    group = MeasureGroup.objects.select_for_update().get(pk=group.pk) if group else MeasureGroup()
    before = model_snapshot(group) if group.pk else None
    _set(group, data, GROUP_FIELDS)
    full_clean_or_refuse(group)
    _save_audited(actor, group, before)
    return group


@transaction.atomic
def measure_save(
    *, actor: User | None, data: dict[str, Any], measure: Measure | None = None
) -> Measure:
    _require(perms.can_edit_catalogue(actor), _("只有区县管理员可以维护帮扶措施目录"))
    measure = Measure.objects.select_for_update().get(pk=measure.pk) if measure else Measure()
    before = model_snapshot(measure) if measure.pk else None
    _set(measure, data, MEASURE_FIELDS)
    if measure.development and measure.backstop:
        raise ApplicationError(_("一项措施不能既是开发式帮扶又是兜底保障"))
    full_clean_or_refuse(measure)
    _save_audited(actor, measure, before)
    return measure


@transaction.atomic
def rule_save(
    *, actor: User | None, data: dict[str, Any], rule: RecommendationRule | None = None
) -> RecommendationRule:
    _require(perms.can_edit_catalogue(actor), _("只有区县管理员可以修改推荐规则"))
    rule = (
        RecommendationRule.objects.select_for_update().get(pk=rule.pk)
        if rule
        else RecommendationRule()
    )
    before = model_snapshot(rule) if rule.pk else None
    _set(rule, data, RULE_FIELDS)
    if (
        rule.member_age_min is not None
        and rule.member_age_max is not None
        and rule.member_age_min > rule.member_age_max
    ):
        raise ApplicationError(_("成员年龄下限不能大于上限"))
    if rule.per_member and not rule.has_member_condition:
        raise ApplicationError(_("按成员逐人推荐时须至少设置一项成员条件"))
    full_clean_or_refuse(rule)
    _save_audited(actor, rule, before)
    return rule


@transaction.atomic
def rule_delete(*, actor: User | None, rule: RecommendationRule) -> None:
    _require(perms.can_edit_catalogue(actor), _("只有区县管理员可以修改推荐规则"))
    before = model_snapshot(rule)
    audit_record(actor=actor, action=AuditAction.DELETE, target=rule, before=before)
    # Plan measures keep the rule's name and reason; their link is cleared (SET_NULL).
    rule.delete()


# ---------------------------------------------------------------------------------------------
# Plans


def _require_planner(actor: User | None, household: Household) -> None:
    _require(perms.can_plan(actor), _("您的角色不能制定帮扶计划"))
    _require(division_in_area(actor, household.village_id), _("该农户不在您的管辖范围内"))


def plannable_problem(household: Household) -> str:
    """Why no plan may be made for ``household`` now, or "" when one may.

    A monitoring object may have a plan, and so may a household whose identification runs
    through the green channel (disasters, accidents: help starts before the procedure ends).
    """
    if household.monitoring_status != MonitoringStatus.NOT_MONITORED:
        return ""
    from shouwang.cases.choices import CaseKind
    from shouwang.cases.models import Case
    from shouwang.cases.workflow import OPEN_STATES

    green = Case.objects.filter(
        household=household,
        kind=CaseKind.IDENTIFICATION,
        state__in=OPEN_STATES,
        green_channel=True,
    ).exists()
    if green:
        return ""
    return _("该户尚未纳入监测（也未走绿色通道），不能制定帮扶计划")


def _member_of(household: Household, member: Member | None) -> None:
    if member is not None and member.household_id != household.pk:
        raise ApplicationError(_("受益成员 %(name)s 不是该户成员") % {"name": member.name})


def _new_plan_measure(
    *, actor: User | None, plan: Plan, item: dict[str, Any], today: dt.date
) -> PlanMeasure:
    measure: Measure = item["measure"]
    if not measure.active:
        raise ApplicationError(_("措施“%(name)s”已停用") % {"name": measure.name})
    rule: RecommendationRule | None = item.get("rule")
    member = item.get("member")
    _member_of(plan.household, member)
    planned_start = item.get("planned_start") or today
    pm = PlanMeasure(
        plan=plan,
        measure=measure,
        member=member,
        source=item.get("source")
        or (MeasureSource.RECOMMENDED if rule is not None else MeasureSource.MANUAL),
        rule=rule,
        rule_name=(rule.name if rule is not None else item.get("rule_name", ""))[:100],
        reason=(item.get("reason") or "")[:200],
        department=item.get("department") or measure.department,
        responsible_person=(item.get("responsible_person") or "").strip(),
        planned_start=planned_start,
        planned_end=item.get("planned_end") or planned_start + dt.timedelta(days=DEFAULT_PLAN_DAYS),
        amount=item.get("amount"),
        quantity=item.get("quantity"),
        status_note=(item.get("status_note") or "").strip(),
        updated_by=stored_actor(actor),
    )
    full_clean_or_refuse(pm)
    pm.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=pm,
        after=model_snapshot(pm),
        subject=household_subject(plan.household_id, pm),
    )
    return pm


@transaction.atomic
def plan_accept(
    *,
    actor: User | None,
    household: Household,
    items: list[dict[str, Any]],
    note: str = "",
    today: dt.date | None = None,
) -> Plan:
    """Accept measures into ``household``'s plan (creating the plan the first time).

    ``items`` are dicts with ``measure`` and optionally ``member``, ``rule``, ``reason``,
    ``source``, ``department``, ``responsible_person``, ``planned_start``, ``planned_end``,
    ``amount``, ``quantity``: the proposals as the cadre accepted or edited them, and any
    measures the cadre added.
    """
    today = today or timezone.localdate()
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_planner(actor, household)
    problem = plannable_problem(household)
    if problem:
        raise ApplicationError(problem)
    if not items:
        raise ApplicationError(_("请至少选择一项帮扶措施"))
    plan = Plan.objects.filter(household=household).first()
    if plan is None:
        plan = Plan(
            household=household,
            accepted_by=stored_actor(actor),
            accepted_at=timezone.now(),
            note=note.strip(),
        )
        plan.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=plan,
            after=model_snapshot(plan),
            subject=household_subject(household.pk, plan),
        )
    elif note.strip():
        before = model_snapshot(plan)
        plan.note = note.strip()
        _save_audited(actor, plan, before, subject=household_subject(household.pk, plan))
    plan.household = household
    existing = {
        (pm.measure_id, pm.member_id) for pm in plan.measures.exclude(status=MeasureStatus.STOPPED)
    }
    for item in items:
        member = item.get("member")
        key = (item["measure"].pk, member.pk if member is not None else None)
        if key in existing:
            raise ApplicationError(
                _("计划中已有措施“%(name)s”%(who)s")
                % {"name": item["measure"].name, "who": f"（{member.name}）" if member else ""}
            )
        existing.add(key)
        _new_plan_measure(actor=actor, plan=plan, item=item, today=today)
    return plan


@transaction.atomic
def plan_measure_update(
    *, actor: User | None, plan_measure: PlanMeasure, data: dict[str, Any]
) -> PlanMeasure:
    """A planner changes who delivers a measure, when, or how much."""
    pm = (
        PlanMeasure.objects.select_for_update(of=("self",))
        .select_related("plan__household", "measure")
        .get(pk=plan_measure.pk)
    )
    _require_planner(actor, pm.plan.household)
    if pm.status not in OPEN_MEASURE_STATUSES:
        raise ApplicationError(
            _("措施%(status)s，不能再修改") % {"status": pm.get_status_display()}
        )
    before = model_snapshot(pm)
    _set(pm, data, PLAN_MEASURE_FIELDS)
    pm.updated_by = stored_actor(actor)
    full_clean_or_refuse(pm)
    _save_audited(actor, pm, before, subject=household_subject(pm.plan.household_id, pm))
    return pm


def can_update_delivery(actor: User | None, pm: PlanMeasure) -> bool:
    """Planners in the household's area, or officers of the measure's department in theirs."""
    if not perms.can_deliver(actor):
        return False
    if not division_in_area(actor, pm.plan.household.village_id):
        return False
    if perms.is_department_officer(actor):
        return bool(actor.department) and actor.department == pm.department
    return True


@transaction.atomic
def plan_measure_progress(
    *,
    actor: User | None,
    plan_measure: PlanMeasure,
    status: str,
    data: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> PlanMeasure:
    """Record delivery: move the status (planned → in progress → delivered, or stopped) and
    the actual dates and amounts. Delivered and stopped are final."""
    today = today or timezone.localdate()
    data = dict(data or {})
    pm = (
        PlanMeasure.objects.select_for_update(of=("self",))
        .select_related("plan__household", "measure")
        .get(pk=plan_measure.pk)
    )
    _require(can_update_delivery(actor, pm), _("您不能更新这项措施的落实情况"))
    try:
        target = MeasureStatus(status)
    except ValueError as error:
        raise ApplicationError(_("未知的措施状态：%(status)s") % {"status": status}) from error
    current = MeasureStatus(pm.status)
    if target != current and target not in STATUS_MOVES[current]:
        raise ApplicationError(
            _("措施已是“%(current)s”，不能改为“%(target)s”")
            % {"current": current.label, "target": target.label}
        )
    if target == current and current not in OPEN_MEASURE_STATUSES:
        raise ApplicationError(_("措施%(status)s，不能再修改") % {"status": current.label})
    before = model_snapshot(pm)
    _set(pm, data, PROGRESS_FIELDS)
    pm.status = target
    if target in (MeasureStatus.IN_PROGRESS, MeasureStatus.DELIVERED) and pm.actual_start is None:
        pm.actual_start = pm.actual_end if pm.actual_end and pm.actual_end < today else today
    if target == MeasureStatus.DELIVERED and pm.actual_end is None:
        pm.actual_end = today
    if target == MeasureStatus.STOPPED and not pm.status_note.strip():
        raise ApplicationError(_("终止措施须说明原因"))
    for name in ("actual_start", "actual_end"):
        value = getattr(pm, name)
        if value is not None and value > today:
            raise ApplicationError(_("实际日期不能晚于今天"))
    if pm.actual_start and pm.actual_end and pm.actual_end < pm.actual_start:
        raise ApplicationError(_("实际完成日期不能早于实际开始日期"))
    if pm.amount is not None and pm.amount < Decimal(0):
        raise ApplicationError(_("金额不能为负数"))
    pm.updated_by = stored_actor(actor)
    full_clean_or_refuse(pm)
    _save_audited(actor, pm, before, subject=household_subject(pm.plan.household_id, pm))
    return pm
