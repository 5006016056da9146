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

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
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
from shouwang.cases.selectors import green_channel_identifications
from shouwang.core.audit import (
    audit_record,
    household_subject,
    model_snapshot,
    stored_actor,
    subject_key,
)
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied, full_clean_or_refuse
from shouwang.core.jurisdiction import can_edit_registry, division_in_area
from shouwang.core.models import User
from shouwang.registry.choices import RISK_REGISTRY_FLAGS, MonitoringStatus
from shouwang.registry.models import Household, Member
from shouwang.registry.services import household_update

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
    if green_channel_identifications().filter(household=household).exists():
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


# ---------------------------------------------------------------------------------------------
# Registry flags a delivery confirms


def _flag_names() -> tuple[str, ...]:
    """Every registry flag a risk type maps to, once each, in the mapping's order."""
    return tuple(dict.fromkeys(RISK_REGISTRY_FLAGS.values()))


def delivery_flags(pm: PlanMeasure) -> tuple[str, ...]:
    """The registry flags (``Household.housing_secure``, …) a delivery of ``pm`` asks to
    confirm, read from data: the risk types its measure group answers
    (``MeasureGroup.covers_risk_types``) that the registry records as a yes/no fact
    (``registry.choices.RISK_REGISTRY_FLAGS``), where the household was identified with that
    risk or the registry says it is not secure now (as the elimination visit does)."""
    household = pm.plan.household
    covered = {
        RISK_REGISTRY_FLAGS[risk]
        for risk in (pm.measure.group.covers_risk_types or ())
        if risk in RISK_REGISTRY_FLAGS
    }
    identified = {
        RISK_REGISTRY_FLAGS[risk] for risk in household.risk_types if risk in RISK_REGISTRY_FLAGS
    }
    return tuple(
        name
        for name in _flag_names()
        if name in covered and (name in identified or not getattr(household, name))
    )


def flag_label(name: str) -> str:
    """A registry flag's name as the registry's pages show it (住房安全有保障)."""
    return str(Household._meta.get_field(name).verbose_name)


def _check_flags(pm: PlanMeasure, flags: dict[str, bool], target: MeasureStatus) -> None:
    """Refuse confirmations out of place: when not delivering, or of a flag not asked."""
    if target != MeasureStatus.DELIVERED:
        raise ApplicationError(_("只有将措施标记为“已落实”时才能确认农户档案的保障情况"))
    asked = delivery_flags(pm)
    unknown = [name for name in flags if name not in asked]
    if unknown:
        known = set(RISK_REGISTRY_FLAGS.values())
        labels = "、".join(flag_label(n) if n in known else n for n in unknown)
        raise ApplicationError(
            _("该措施落实时不确认以下农户档案项目：%(fields)s") % {"fields": labels}
        )


def _write_flags(*, actor: User | None, pm: PlanMeasure, flags: dict[str, bool]) -> None:
    """Write the confirmed flags that change through the registry's service, which checks
    the actor's role and area again and writes the household's own audit row."""
    household = Household.objects.select_for_update().get(pk=pm.plan.household_id)
    changes = {
        name: bool(value) for name, value in flags.items() if getattr(household, name) != value
    }
    if not changes:
        return
    if not can_edit_registry(actor):
        raise PermissionDenied(
            _("您的角色不能修改农户档案中的%(fields)s，请由村、乡镇（街道）工作人员确认")
            % {"fields": "、".join(flag_label(n) for n in changes)}
        )

    try:
        household_update(actor=actor, household=household, data=changes)
    except DjangoValidationError as error:
        raise ApplicationError(
            _("农户档案未能更新：%(reason)s") % {"reason": "；".join(error.messages)}
        ) from error


# ---------------------------------------------------------------------------------------------
# Delivery


def _locked_measures(ids: Iterable[int]) -> QuerySet[PlanMeasure]:
    return (
        PlanMeasure.objects.select_for_update(of=("self",))
        .select_related(
            "plan__household", "plan__household__village", "measure", "measure__group", "member"
        )
        .filter(pk__in=list(ids))
    )


def _apply_progress(
    pm: PlanMeasure, *, actor: User | None, status: str, data: dict[str, Any], today: dt.date
) -> MeasureStatus:
    """Move ``pm`` (in memory) to ``status`` with ``data``; ApplicationError if refused."""
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
    return target


def _save_progress(actor: User | None, pm: PlanMeasure, before: dict) -> None:
    _save_audited(actor, pm, before, subject=household_subject(pm.plan.household_id, pm))


@transaction.atomic
def plan_measure_progress(
    *,
    actor: User | None,
    plan_measure: PlanMeasure,
    status: str,
    data: dict[str, Any] | None = None,
    registry_flags: dict[str, bool] | None = None,
    today: dt.date | None = None,
) -> PlanMeasure:
    """Record delivery: move the status (planned → in progress → delivered, or stopped) and
    the actual dates and amounts. Delivered and stopped are final.

    ``registry_flags`` are the registry facts the delivery confirms (``{"housing_secure":
    True}``), only when marking delivered and only those ``delivery_flags`` asks for; a
    changed one is written through ``registry.services.household_update`` in the same
    transaction (the household's audit row with it)."""
    today = today or timezone.localdate()
    data = dict(data or {})
    pm = _locked_measures([plan_measure.pk]).get()
    _require(can_update_delivery(actor, pm), _("您不能更新这项措施的落实情况"))
    before = model_snapshot(pm)
    target = _apply_progress(pm, actor=actor, status=status, data=data, today=today)
    flags = {name: bool(value) for name, value in (registry_flags or {}).items()}
    if flags:
        _check_flags(pm, flags, target)
    _save_progress(actor, pm, before)
    if flags:
        _write_flags(actor=actor, pm=pm, flags=flags)
    return pm


#: At most this many measures in one bulk update (two pages of a list and then some).
BULK_PROGRESS_LIMIT = 200
#: The statuses a bulk update may set: stopping needs a reason per measure.
BULK_STATUSES = frozenset({MeasureStatus.IN_PROGRESS, MeasureStatus.DELIVERED})
#: What a bulk update may set besides the status: one date and one note for all.
BULK_PROGRESS_FIELDS = ("actual_start", "actual_end", "status_note")


def plan_measure_label(pm: PlanMeasure) -> str:
    """A measure as a refusal names it: household, measure and member."""
    household = pm.plan.household
    who = household.head_name or household.household_number
    member = f"（{pm.member.name}）" if pm.member is not None else ""
    return _("%(household)s户 %(measure)s%(member)s") % {
        "household": who,
        "measure": pm.measure.name,
        "member": member,
    }


@transaction.atomic
def plan_measures_bulk_progress(
    *,
    actor: User | None,
    plan_measure_ids: Iterable[int],
    status: str,
    data: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> list[PlanMeasure]:
    """Record the same delivery for many measures at once (one date, one note): in progress
    or delivered. Every measure is resolved, then checked as ``plan_measure_progress``
    checks one (area, department, status move, dates); if any is refused, nothing is saved
    and the refusal lists each refused measure with its reasons (``extra["rows"]``). One
    audit row per measure.

    A bulk update answers no registry question: a measure whose delivery would ask the actor
    to confirm a registry flag that now reads "not secure" (``delivery_flags``) is refused
    here and delivered on its own page, where the question is asked."""
    today = today or timezone.localdate()
    data = dict(data or {})
    _require(perms.can_deliver(actor), _("您的角色不能更新帮扶措施的落实情况"))
    unknown = set(data) - set(BULK_PROGRESS_FIELDS)
    if unknown:
        raise ApplicationError(
            _("批量登记不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))}
        )
    ids = list(dict.fromkeys(int(pk) for pk in plan_measure_ids))
    if not ids:
        raise ApplicationError(_("请至少选择一项措施"))
    if len(ids) > BULK_PROGRESS_LIMIT:
        raise ApplicationError(
            _("一次最多更新 %(n)d 项措施，请分批提交") % {"n": BULK_PROGRESS_LIMIT}
        )
    try:
        target = MeasureStatus(status)
    except ValueError as error:
        raise ApplicationError(_("未知的措施状态：%(status)s") % {"status": status}) from error
    if target not in BULK_STATUSES:
        raise ApplicationError(
            _("批量登记只能标记为“%(a)s”或“%(b)s”；终止措施请逐项说明原因")
            % {"a": MeasureStatus.IN_PROGRESS.label, "b": MeasureStatus.DELIVERED.label}
        )
    found = {pm.pk: pm for pm in _locked_measures(ids)}
    confirms_registry = can_edit_registry(actor)
    rows: list[dict[str, Any]] = []
    saves: list[tuple[PlanMeasure, dict]] = []
    for pk in ids:
        pm = found.get(pk)
        # Another area's or department's measure reads like one that does not exist.
        if pm is None or not can_update_delivery(actor, pm):
            rows.append(
                {
                    "id": pk,
                    "label": _("编号 %(id)d") % {"id": pk},
                    "reasons": [_("措施不存在，或不在您的管辖范围内、不由本部门负责")],
                }
            )
            continue
        reasons = []
        before = model_snapshot(pm)
        try:
            _apply_progress(pm, actor=actor, status=target, data=data, today=today)
        except ApplicationError as exc:
            reasons.append(exc.message)
        if target == MeasureStatus.DELIVERED and confirms_registry:
            household = pm.plan.household
            for name in delivery_flags(pm):
                if not getattr(household, name):
                    reasons.append(
                        _("农户档案“%(flag)s”为“否”，落实后须确认是否已有保障，请在措施页单独登记")
                        % {"flag": flag_label(name)}
                    )
        if reasons:
            rows.append({"id": pk, "label": plan_measure_label(pm), "reasons": reasons})
        else:
            saves.append((pm, before))
    if rows:
        lines = [f"{row['label']}：{'；'.join(row['reasons'])}" for row in rows]
        raise ApplicationError(
            _("以下 %(n)d 项措施不能更新，整批均未保存：%(rows)s")
            % {"n": len(rows), "rows": "\n".join(lines)},
            extra={"rows": rows},
        )
    for pm, before in saves:
        _save_progress(actor, pm, before)
    return [pm for pm, _before in saves]
