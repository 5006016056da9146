"""Writes of the routine work: the monthly village meeting (月工作会议), the quarterly risk
review (季度研判) and the yearly campaign (集中排查 / 动态管理).

Village cadres record their village's meetings, reviews and campaign checks; district staff
open campaigns. Natural changes found in a campaign check (births, deaths, moves, marriages)
go to the registry through the registry's own services, so its audit rows and derived
fields (member count, head, per-capita income) stay right; the check keeps what was applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.cases import routine_selectors as sel
from shouwang.cases.choices import LeadChannel
from shouwang.cases.models import (
    Campaign,
    CampaignCheck,
    MeetingItem,
    QuarterlyReview,
    VillageMeeting,
)
from shouwang.cases.records import attendee_names
from shouwang.cases.routine_choices import (
    AgendaKind,
    CheckResult,
    MemberAdditionReason,
    MemberRemovalReason,
)
from shouwang.core.audit import audit_record, model_snapshot, stored_actor, subject_key
from shouwang.core.choices import AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import division_in_area, has_role
from shouwang.core.models import Division, User
from shouwang.core.months import is_month, month_label
from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from shouwang.registry.services import member_create, member_delete, member_update

#: A decision left empty on an item with nothing in it.
NOTHING_TO_DECIDE = "无"


def _require_recorder(actor: User | None, village_code: str, what: str) -> None:
    if not has_role(actor, sel.ROUTINE_RECORDERS):
        raise PermissionDenied(_("%(what)s由村（社区）干部登记") % {"what": what})
    if not division_in_area(actor, village_code):
        raise PermissionDenied(_("该村不在您的管辖范围内"))


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- monthly meeting ---------------------------------------------------------------------


def _check_meeting_fields(*, month: str, held_on: dt.date, attendees: str, today: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    if not (sel.month_first_day(month) <= held_on <= sel.month_last_day(month)):
        errors["held_on"] = [_("召开日期应在%(month)s内") % {"month": month_label(month)}]
    elif held_on > today:
        errors["held_on"] = [_("召开日期不能晚于今天")]
    if not attendee_names(attendees):
        errors["attendees"] = [_("请填写参会人员")]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], extra={"errors": errors})


def _decisions_for(agenda: list[sel.AgendaEntry], decisions: dict[str, str]) -> dict[str, str]:
    """Each item with something in it, and the monitor's report, needs the meeting's decision;
    an empty item may stay blank and reads "无"."""
    unknown = set(decisions) - set(AgendaKind.values)
    if unknown:
        raise ApplicationError(_("未知的议题：%(kinds)s") % {"kinds": "、".join(sorted(unknown))})
    result: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    for entry in agenda:
        text = (decisions.get(entry.kind) or "").strip()
        if not text and (entry.count or entry.kind == AgendaKind.MONITOR_REPORT):
            missing[entry.kind] = [_("请填写“%(item)s”的研究意见") % {"item": entry.label}]
        result[entry.kind] = text or NOTHING_TO_DECIDE
    if missing:
        raise ApplicationError(next(iter(missing.values()))[0], extra={"errors": missing})
    return result


def _meeting_audit_items(meeting: VillageMeeting) -> list[dict[str, Any]]:
    return [
        {"kind": i.kind, "count": i.count, "decision": i.decision}
        for i in meeting.items.order_by("position")
    ]


@transaction.atomic
def meeting_create(
    *,
    actor: User | None,
    village: Division,
    month: str,
    held_on: dt.date,
    attendees: str,
    decisions: dict[str, str],
    summary: str = "",
    today: dt.date | None = None,
) -> VillageMeeting:
    """Record a village's monthly meeting with the agenda Shouwang fills in now; the number
    of attendees is counted from their names."""
    _require_recorder(actor, village.code, _("村月工作会议"))
    if village.level != DivisionLevel.VILLAGE:
        raise ApplicationError(_("月工作会议按行政村（社区）登记"))
    if not is_month(month):
        raise ApplicationError(_("会议月份格式为 YYYYMM，例如 202611"))
    today = today or timezone.localdate()
    _check_meeting_fields(
        month=month,
        held_on=held_on,
        attendees=attendees,
        today=today,
    )
    if VillageMeeting.objects.filter(village=village, month=month).exists():
        raise ApplicationError(
            _("%(village)s%(month)s的工作会议已登记")
            % {"village": village.name, "month": month_label(month)}
        )
    agenda = sel.meeting_agenda(village=village, month=month, held_on=held_on)
    texts = _decisions_for(agenda, decisions)
    meeting = VillageMeeting(
        village=village,
        month=month,
        held_on=held_on,
        attendees="、".join(attendee_names(attendees)),
        attendee_count=len(attendee_names(attendees)),
        summary=summary.strip(),
        recorded_by=stored_actor(actor),
    )
    meeting.full_clean(validate_constraints=False)
    try:
        # Two cadres saving the same month at once: the constraint decides, in a savepoint.
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        raise ApplicationError(
            _("%(village)s%(month)s的工作会议已登记")
            % {"village": village.name, "month": month_label(month)}
        ) from None
    MeetingItem.objects.bulk_create(
        MeetingItem(
            meeting=meeting,
            position=position,
            kind=entry.kind,
            count=entry.count,
            details=entry.details,
            decision=texts[entry.kind],
        )
        for position, entry in enumerate(agenda, start=1)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=meeting,
        after=model_snapshot(meeting),
        extra={"items": _meeting_audit_items(meeting)},
    )
    return meeting


@transaction.atomic
def meeting_update(
    *,
    actor: User | None,
    meeting: VillageMeeting,
    held_on: dt.date,
    attendees: str,
    decisions: dict[str, str],
    summary: str = "",
    today: dt.date | None = None,
) -> VillageMeeting:
    """Correct a recorded meeting: date, attendees, minutes and decisions. The agenda stays
    as it was generated."""
    meeting = VillageMeeting.objects.select_for_update().get(pk=meeting.pk)
    _require_recorder(actor, meeting.village_id, _("村月工作会议"))
    today = today or timezone.localdate()
    _check_meeting_fields(
        month=meeting.month,
        held_on=held_on,
        attendees=attendees,
        today=today,
    )
    items = list(meeting.items.order_by("position"))
    agenda = [sel.AgendaEntry(i.kind, i.count) for i in items]
    texts = _decisions_for(agenda, decisions)
    before = {**model_snapshot(meeting), "items": _meeting_audit_items(meeting)}
    meeting.held_on = held_on
    meeting.attendees = "、".join(attendee_names(attendees))
    meeting.attendee_count = len(attendee_names(attendees))
    meeting.summary = summary.strip()
    meeting.full_clean(validate_constraints=False)
    meeting.save()
    for item in items:
        if item.decision != texts[item.kind]:
            item.decision = texts[item.kind]
            item.save(update_fields=["decision"])
    after = {**model_snapshot(meeting), "items": _meeting_audit_items(meeting)}
    if before != after:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, target=meeting, before=before, after=after
        )
    return meeting


# --- quarterly review --------------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    actor: User | None,
    household: Household,
    reviewed_on: dt.date,
    risk_present: bool,
    plan_needs_change: bool,
    reviewers: str,
    note: str = "",
    today: dt.date | None = None,
) -> QuarterlyReview:
    """Record a household's review for the quarter of ``reviewed_on``."""
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("village")
        .get(pk=household.pk)
    )
    _require_recorder(actor, household.village_id, _("季度风险研判"))
    today = today or timezone.localdate()
    if reviewed_on > today:
        raise ApplicationError(
            _("研判日期不能晚于今天"),
            extra={"errors": {"reviewed_on": [_("研判日期不能晚于今天")]}},
        )
    quarter = sel.quarter_of(reviewed_on)
    if not Household.objects.filter(pk=household.pk).filter(sel.review_due_q(quarter)).exists():
        raise ApplicationError(
            _("%(quarter)s该户不是风险未消除的监测对象，无需季度研判")
            % {"quarter": sel.quarter_label(quarter)}
        )
    if not reviewers.strip():
        raise ApplicationError(
            _("请填写研判人员"), extra={"errors": {"reviewers": [_("请填写研判人员")]}}
        )
    if plan_needs_change and not note.strip():
        message = _("帮扶方案需要调整时，请在研判意见中写明如何调整")
        raise ApplicationError(message, extra={"errors": {"note": [message]}})
    if QuarterlyReview.objects.filter(household=household, quarter=quarter).exists():
        raise ApplicationError(
            _("该户%(quarter)s已经研判过") % {"quarter": sel.quarter_label(quarter)}
        )
    review = QuarterlyReview(
        household=household,
        quarter=quarter,
        reviewed_on=reviewed_on,
        risk_present=risk_present,
        plan_needs_change=plan_needs_change,
        reviewers=reviewers.strip()[:200],
        note=note.strip(),
        recorded_by=stored_actor(actor),
    )
    review.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:
        raise ApplicationError(
            _("该户%(quarter)s已经研判过") % {"quarter": sel.quarter_label(quarter)}
        ) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=review,
        after=model_snapshot(review),
        subject=subject_key(household),
    )
    return review


# --- yearly campaign ---------------------------------------------------------------------


@transaction.atomic
def campaign_open(
    *,
    actor: User | None,
    name: str,
    scope: Division,
    starts_on: dt.date,
    ends_on: dt.date,
    note: str = "",
) -> Campaign:
    """Open a campaign over a county or a township; campaigns over the same ground may not
    overlap in time."""
    if not has_role(actor, sel.CAMPAIGN_OPENERS):
        raise PermissionDenied(_("集中排查由区县管理员或区县工作人员发起"))
    if not division_in_area(actor, scope.code):
        raise PermissionDenied(_("排查范围不在您的管辖范围内"))
    if scope.level not in (DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP):
        raise ApplicationError(_("排查范围应为区县或乡镇（街道）"))
    if not name.strip():
        raise ApplicationError(
            _("请填写排查名称"), extra={"errors": {"name": [_("请填写排查名称")]}}
        )
    if ends_on < starts_on:
        message = _("结束日期不能早于开始日期")
        raise ApplicationError(message, extra={"errors": {"ends_on": [message]}})
    county = scope.code[:6].ljust(12, "0")
    # Scopes overlap when one contains the other: the same township, or the county.
    overlapping = (
        Campaign.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
        .filter(Q(scope__code__startswith=scope.prefix) | Q(scope_id=county))
        .order_by("starts_on")
        .first()
    )
    if overlapping is not None:
        raise ApplicationError(
            _("与“%(name)s”（%(start)s 至 %(end)s）的范围和时间重叠")
            % {
                "name": overlapping.name,
                "start": overlapping.starts_on,
                "end": overlapping.ends_on,
            }
        )
    campaign = Campaign(
        name=name.strip()[:100],
        scope=scope,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip(),
        opened_by=stored_actor(actor),
    )
    campaign.full_clean()
    campaign.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, target=campaign, after=model_snapshot(campaign)
    )
    return campaign


@dataclass(frozen=True)
class MemberRemoval:
    """A member who left the household: died, moved out or married out."""

    member_id: int
    reason: str


@dataclass(frozen=True)
class MemberAddition:
    """A new member: born, married in or moved in. Sex and birth date come from the ID."""

    reason: str
    name: str
    id_number: str
    relation: str
    education: str = rc.Education.PRESCHOOL
    labour_skill: str = rc.LabourSkill.NONE
    school_status: str = rc.SchoolStatus.NOT_IN_SCHOOL


@transaction.atomic
def campaign_check_record(
    *,
    actor: User | None,
    campaign: Campaign,
    household: Household,
    checked_on: dt.date,
    checker: str,
    result: str,
    note: str = "",
    removals: list[MemberRemoval] | tuple[MemberRemoval, ...] = (),
    additions: list[MemberAddition] | tuple[MemberAddition, ...] = (),
    new_head_id: int | None = None,
    today: dt.date | None = None,
) -> CampaignCheck:
    """Record one household's check and apply its natural changes to the registry.

    Order: members who left are removed, then the new head (if the head left) takes over,
    then new members are added. A new risk found opens a lead for the village to handle.
    """
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("village")
        .get(pk=household.pk)
    )
    _require_recorder(actor, household.village_id, _("排查记录"))
    today = today or timezone.localdate()
    if not household.village_id.startswith(campaign.scope.prefix):
        raise ApplicationError(_("该户不在本次排查范围内"))
    if not (campaign.starts_on <= checked_on <= campaign.ends_on):
        message = _("排查日期应在 %(start)s 至 %(end)s 之间") % {
            "start": campaign.starts_on,
            "end": campaign.ends_on,
        }
        raise ApplicationError(message, extra={"errors": {"checked_on": [message]}})
    if checked_on > today:
        message = _("排查日期不能晚于今天")
        raise ApplicationError(message, extra={"errors": {"checked_on": [message]}})
    if not checker.strip():
        message = _("请填写排查人")
        raise ApplicationError(message, extra={"errors": {"checker": [message]}})
    if result not in CheckResult.values:
        raise ApplicationError(_("未知的排查结果“%(r)s”") % {"r": result})
    changing = bool(removals or additions or new_head_id)
    if changing and result == CheckResult.NO_CHANGE:
        message = _("登记了人口变动，排查结果不能为“无变化”")
        raise ApplicationError(message, extra={"errors": {"result": [message]}})
    if result != CheckResult.NO_CHANGE and not note.strip():
        message = _("排查发现变化或新风险时，请写明情况")
        raise ApplicationError(message, extra={"errors": {"note": [message]}})
    if CampaignCheck.objects.filter(campaign=campaign, household=household).exists():
        raise ApplicationError(_("该户在本次排查中已登记"))

    changes = _apply_natural_changes(
        actor=actor,
        household=household,
        removals=list(removals),
        additions=list(additions),
        new_head_id=new_head_id,
    )
    lead = None
    if result == CheckResult.NEW_RISK:
        from shouwang.cases.services import lead_create

        lead = lead_create(
            actor=actor,
            channel=LeadChannel.HOME_VISIT,
            division=household.village,
            household=household,
            description=_("%(campaign)s发现：%(note)s")
            % {"campaign": campaign.name, "note": note.strip()},
            received_on=checked_on,
            reporter_name=checker.strip()[:50],
        )
    check = CampaignCheck(
        campaign=campaign,
        household=household,
        village=household.village,
        checked_on=checked_on,
        checker=checker.strip()[:100],
        result=result,
        note=note.strip(),
        changes=changes,
        lead=lead,
        recorded_by=stored_actor(actor),
    )
    check.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            check.save()
    except IntegrityError:
        raise ApplicationError(_("该户在本次排查中已登记")) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=check,
        after=model_snapshot(check),
        subject=subject_key(household),
        extra={"campaign": campaign.pk},
    )
    return check


def _apply_natural_changes(
    *,
    actor: User | None,
    household: Household,
    removals: list[MemberRemoval],
    additions: list[MemberAddition],
    new_head_id: int | None,
) -> list[dict[str, Any]]:
    members = {m.pk: m for m in household.members.all()}
    applied: list[dict[str, Any]] = []
    removed_ids = [r.member_id for r in removals]
    if len(set(removed_ids)) != len(removed_ids):
        raise ApplicationError(_("同一成员不能登记两次减少"))
    for removal in removals:
        if removal.reason not in MemberRemovalReason.values:
            raise ApplicationError(_("未知的人口减少原因“%(r)s”") % {"r": removal.reason})
        member = members.get(removal.member_id)
        if member is None:
            raise ApplicationError(_("成员 #%(id)s 不属于该户") % {"id": removal.member_id})
        member_delete(actor=actor, member=member)
        applied.append(
            {
                "change": removal.reason,
                "member_id": member.pk,
                "name": member.name,
                "relation": member.relation,
            }
        )
    remaining = {pk: m for pk, m in members.items() if pk not in removed_ids}
    head_left = any(members[pk].relation == rc.Relation.HEAD for pk in removed_ids)
    if new_head_id is not None:
        if not head_left:
            raise ApplicationError(_("户主仍在户内，不能另设户主"))
        head = remaining.get(new_head_id)
        if head is None:
            raise ApplicationError(_("新户主应为该户留下的成员"))
        try:
            member_update(actor=actor, member=head, data={"relation": rc.Relation.HEAD})
        except ValidationError as exc:
            raise ApplicationError(
                _("新户主“%(name)s”：%(error)s") % {"name": head.name, "error": _error_text(exc)}
            ) from None
        applied.append(
            {"change": "new_head", "member_id": head.pk, "name": head.name, "relation": "head"}
        )
    elif head_left and remaining:
        raise ApplicationError(
            _("户主已减少，请从留下的成员中指定新户主"),
            extra={"errors": {"new_head": [_("请指定新户主")]}},
        )
    for addition in additions:
        if addition.reason not in MemberAdditionReason.values:
            raise ApplicationError(_("未知的人口增加原因“%(r)s”") % {"r": addition.reason})
        if not addition.name.strip():
            raise ApplicationError(_("请填写新增成员的姓名"))
        data = {
            "name": addition.name.strip()[:50],
            "relation": addition.relation,
            "education": addition.education,
            "labour_skill": addition.labour_skill,
            "school_status": addition.school_status,
        }
        try:
            member = member_create(
                actor=actor, household=household, id_number=addition.id_number, data=data
            )
        except ValidationError as exc:
            raise ApplicationError(
                _("新增成员“%(name)s”：%(error)s")
                % {"name": addition.name.strip(), "error": _error_text(exc)}
            ) from None
        applied.append(
            {
                "change": addition.reason,
                "member_id": member.pk,
                "name": member.name,
                "relation": member.relation,
            }
        )
    return applied
