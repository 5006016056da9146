"""Writes of the cases app: leads, opening cases, and every step of a case.

A case's state changes only in ``case_act``: it locks the row, looks the step up in
``workflow.TRANSITIONS``, checks the actor's level and area and the step's guards, validates
what the step records, applies the step's effect (notice dates, the visit's figures, the
household's new monitoring status on approval) and appends a ``CaseTransition`` and an audit
row, all in one transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.cases import workflow
from shouwang.cases.choices import (
    ActingLevel,
    AttachmentKind,
    CaseKind,
    CaseVerb,
    LeadChannel,
    LeadStatus,
    ReviewResult,
)
from shouwang.cases.criteria import (
    Criterion,
    case_income,
    elimination_criteria,
    verified_income,
)
from shouwang.cases.deadlines import add_days, add_working_days
from shouwang.cases.models import Case, CaseTransition, Lead
from shouwang.cases.records import (
    HEAD_FIELDS,
    INCOME_PARTS,
    VISIT_FLAGS,
    HouseholdLink,
    HouseholdRegistration,
    HouseholdSource,
    StepRecordForm,
    record_form_class,
    record_form_options,
)
from shouwang.core import crypto
from shouwang.core.audit import audit_record, household_subject, model_snapshot, stored_actor
from shouwang.core.choices import AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.core.jurisdiction import REGISTRY_EDITORS, division_in_area, has_role
from shouwang.core.models import Division, User
from shouwang.policy.selectors import MissingPolicyValue, policy_value
from shouwang.registry.choices import HouseholdType, MonitoringStatus
from shouwang.registry.models import Household, Member
from shouwang.registry.services import household_create, household_update, member_create
from shouwang.screening.services import alert_open_lead

#: Who records leads and opens cases: the registry's editors (village, township, district).
LEAD_RECORDERS = REGISTRY_EDITORS
#: Letters and digits that cannot be misread for one another on a phone or on paper.
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 10


# --- helpers -----------------------------------------------------------------------------


def policy_days(parameter: str) -> int | None:
    """A whole-number policy value for the home division, or None when none is set."""
    try:
        return int(policy_value(parameter))
    except MissingPolicyValue:
        return None


def _require_recorder(actor: User | None, division_code: str) -> None:
    if not has_role(actor, LEAD_RECORDERS):
        raise PermissionDenied(_("您的角色不能登记线索或启动识别"))
    if not division_in_area(actor, division_code):
        raise PermissionDenied(_("该区划不在您的管辖范围内"))


@dataclass(frozen=True)
class PersonId:
    encrypted: str
    index: str
    masked: str


def _person_id(raw: str) -> PersonId | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = parse_id_number(raw)
    except IdNumberError as exc:
        raise ApplicationError(str(exc)) from None
    return PersonId(
        crypto.encrypt(parsed.value),
        crypto.blind_index(parsed.value),
        crypto.mask_id_number(parsed.value),
    )


def _open_lead_for(household: Household | None, id_index: str) -> Lead | None:
    """The open (or case-opened) lead this one should merge into: same household, or the
    same person when the household is not known yet."""
    leads = Lead.objects.filter(
        status__in=(LeadStatus.OPEN, LeadStatus.CASE_OPENED), merged_into__isnull=True
    ).order_by("received_on", "id")
    if household is not None:
        found = leads.filter(household=household).first()
        if found is not None:
            return found
    if id_index:
        return leads.filter(id_number_index=id_index).first()
    return None


# --- leads -------------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    channel: str,
    division: Division,
    description: str,
    received_on: dt.date | None = None,
    household: Household | None = None,
    person_name: str = "",
    id_number: str = "",
    phone: str = "",
    address: str = "",
    reporter_name: str = "",
    alert: Any = None,
    pledge_signed: bool = False,
    asset_check_consent: bool = False,
) -> Lead:
    """Record a lead from any channel; a lead on a household (or person) that already has an
    open lead is kept, marked as merged into the first one."""
    if channel not in LeadChannel.values:
        raise ApplicationError(_("未知的线索来源“%(c)s”") % {"c": channel})
    if not description.strip():
        raise ApplicationError(_("请填写情况说明"))
    if household is not None:
        division = household.village
    _require_recorder(actor, division.code)
    person = _person_id(id_number)
    if household is None and person is not None:
        member = (
            Member.objects.select_related("household__village")
            .filter(id_number_index=person.index)
            .first()
        )
        if member is not None:  # a registered person: the lead is about their household
            # The subject resolved, the area is checked again: a lead never lands in a
            # village the caller does not cover, and the refusal names nothing there.
            if not division_in_area(actor, member.household.village_id):
                raise ApplicationError(
                    _("该身份证号码已登记在您管辖范围以外的农户中，请与上级核实"),
                    extra={"errors": {"id_number": [_("该身份证号码已登记在您管辖范围以外")]}},
                )
            household = member.household
            division = household.village
            person_name = person_name or member.name
    lead = Lead(
        channel=channel,
        household=household,
        division=division,
        person_name=person_name.strip()[:50],
        id_number_encrypted=person.encrypted if person else "",
        id_number_index=person.index if person else "",
        id_number_masked=person.masked if person else "",
        phone_encrypted=crypto.encrypt(phone.strip()) if phone.strip() else "",
        phone_masked=crypto.mask_phone(phone.strip()) if phone.strip() else "",
        address=address.strip()[:200],
        description=description.strip(),
        received_on=received_on or timezone.localdate(),
        reported_by=stored_actor(actor),
        reporter_name=reporter_name.strip()[:50],
        alert=alert,
        pledge_signed=pledge_signed,
        asset_check_consent=asset_check_consent,
    )
    existing = _open_lead_for(household, lead.id_number_index)
    if existing is not None:
        lead.status = LeadStatus.MERGED
        lead.merged_into = existing
    if channel == LeadChannel.SELF_APPLICATION:
        lead.tracking_code = _new_tracking_code()
    lead.full_clean()
    lead.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=lead,
        after=model_snapshot(lead),
        subject=household_subject(lead.household_id, lead),
    )
    return lead


def _new_tracking_code() -> str:
    while True:
        code = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
        if not Lead.objects.filter(tracking_code=code).exists():
            return code


@transaction.atomic
def lead_self_apply(
    *,
    village: Division,
    applicant_name: str,
    id_number: str,
    phone: str,
    description: str,
    pledge_signed: bool,
    asset_check_consent: bool,
) -> Lead:
    """A household's own application from the public page (no account)."""
    if village.level != DivisionLevel.VILLAGE:
        raise ApplicationError(_("请选择所在的村（社区）"))
    if not applicant_name.strip():
        raise ApplicationError(_("请填写申请人姓名"))
    if not id_number.strip():
        raise ApplicationError(_("请填写申请人身份证号码"))
    if not phone.strip():
        raise ApplicationError(_("请填写联系电话，以便村里联系入户核实"))
    if not pledge_signed:
        raise ApplicationError(_("请阅读并同意承诺书"))
    if not asset_check_consent:
        raise ApplicationError(_("请同意授权核查家庭资产"))
    return lead_create(
        actor=None,
        channel=LeadChannel.SELF_APPLICATION,
        division=village,
        description=description,
        person_name=applicant_name,
        id_number=id_number,
        phone=phone,
        reporter_name=applicant_name,
        pledge_signed=True,
        asset_check_consent=True,
    )


@transaction.atomic
def lead_close(*, actor: User | None, lead: Lead, reason: str) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _require_recorder(actor, lead.division_id)
    if lead.status != LeadStatus.OPEN:
        raise ApplicationError(
            _("该线索已处理（%(s)s），不能关闭") % {"s": lead.get_status_display()}
        )
    if not reason.strip():
        raise ApplicationError(_("请填写关闭原因"))
    before = model_snapshot(lead)
    lead.status = LeadStatus.CLOSED
    lead.closed_reason = reason.strip()[:2000]
    lead.handled_by = stored_actor(actor)
    lead.handled_at = timezone.now()
    lead.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=lead,
        before=before,
        after=model_snapshot(lead),
        subject=household_subject(lead.household_id, lead),
        extra={"verb": "close"},
    )
    return lead


@transaction.atomic
def lead_from_alert(*, actor: User | None, alert: Any, note: str = "") -> Lead:
    """Turn a screening alert into a lead (the alert is marked as such)."""
    alert = alert_open_lead(actor=actor, alert=alert, note=note)
    return lead_create(
        actor=actor,
        channel=LeadChannel.DEPARTMENT_ALERT,
        division=alert.division,
        household=alert.household,
        person_name=alert.person_name,
        description=(note.strip() or alert.rule.name),
        alert=alert,
    )


# --- cases -------------------------------------------------------------------------------


def _case_village(lead: Lead, village: Division | None) -> Division:
    if lead.household_id:
        return lead.household.village
    place = village or lead.division
    if place.level != DivisionLevel.VILLAGE:
        raise ApplicationError(_("该线索尚未定位到村（社区），请先选择所在村"))
    if village is not None and not place.code.startswith(lead.division.code[:6]):
        raise ApplicationError(_("所选村不在线索所在区县"))
    return place


@transaction.atomic
def case_open(
    *,
    actor: User | None,
    lead: Lead,
    village: Division | None = None,
    green_channel: bool = False,
    green_channel_reason: str = "",
    today: dt.date | None = None,
) -> Case:
    """Start identification from an open lead. A self-application already holds the
    application and consent, so its case starts at the home visit."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("household__village", "division")
        .get(pk=lead.pk)
    )
    if lead.status != LeadStatus.OPEN:
        raise ApplicationError(
            _("该线索已处理（%(s)s），不能再启动识别") % {"s": lead.get_status_display()}
        )
    place = _case_village(lead, village)
    _require_recorder(actor, place.code)
    household = lead.household
    if household is not None and household.monitoring_status == MonitoringStatus.RISK_UNRESOLVED:
        raise ApplicationError(_("该户已是风险未消除的监测对象，无需重复识别"))
    if (
        household is not None
        and Case.objects.filter(household=household, state__in=workflow.OPEN_STATES).exists()
    ):
        raise ApplicationError(_("该户已有正在办理的流程"))
    if green_channel and not green_channel_reason.strip():
        raise ApplicationError(_("启用绿色通道须说明事由（如自然灾害、意外事故）"))
    today = today or timezone.localdate()
    limit = policy_days("identification_limit_days")
    case = Case(
        kind=CaseKind.IDENTIFICATION,
        state=workflow.INITIAL_STATE[CaseKind.IDENTIFICATION],
        household=household,
        village=place,
        lead=lead,
        person_name=lead.person_name if household is None else "",
        opened_on=today,
        due_on=add_days(lead.received_on, limit).due_on if limit else today,
        next_due_on=add_days(lead.received_on, limit).due_on if limit else today,
        green_channel=green_channel,
        green_channel_reason=green_channel_reason.strip()[:200],
    )
    case.full_clean()
    case.save()
    before = model_snapshot(lead)
    lead.status = LeadStatus.CASE_OPENED
    lead.handled_by = stored_actor(actor)
    lead.handled_at = timezone.now()
    lead.division = place
    lead.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=case,
        after=model_snapshot(case),
        subject=household_subject(case.household_id, case),
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=lead,
        before=before,
        after=model_snapshot(lead),
        subject=household_subject(lead.household_id, lead),
        extra={"verb": "open_case", "case": case.pk},
    )
    if lead.channel == LeadChannel.SELF_APPLICATION and lead.pledge_signed:
        _step(
            actor=None,
            case=case,
            transition=workflow.transition_for(case.kind, case.state, CaseVerb.APPLY),
            record={
                "applicant_name": lead.person_name,
                "applied_on": lead.received_on.isoformat(),
                "pledge_signed": True,
                "asset_check_consent": True,
                "note": _("农户自主申报（查询码 %(code)s）") % {"code": lead.tracking_code},
            },
        )
    return case


@transaction.atomic
def elimination_open(
    *, actor: User | None, household: Household, today: dt.date | None = None
) -> Case:
    """Start risk elimination for a monitored household (the village then nominates it)."""
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("village")
        .get(pk=household.pk)
    )
    _require_recorder(actor, household.village_id)
    if household.monitoring_status != MonitoringStatus.RISK_UNRESOLVED:
        raise ApplicationError(_("只有风险未消除的监测对象才能启动风险消除"))
    if Case.objects.filter(household=household, state__in=workflow.OPEN_STATES).exists():
        raise ApplicationError(_("该户已有正在办理的流程"))
    today = today or timezone.localdate()
    limit = policy_days("identification_limit_days")
    case = Case(
        kind=CaseKind.ELIMINATION,
        state=workflow.INITIAL_STATE[CaseKind.ELIMINATION],
        household=household,
        village=household.village,
        opened_on=today,
        due_on=add_days(today, limit).due_on if limit else today,
        next_due_on=add_days(today, limit).due_on if limit else today,
    )
    case.full_clean()
    case.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=case,
        after=model_snapshot(case),
        subject=household_subject(case.household_id, case),
    )
    return case


def can_act(actor: User | None, case: Case, transition: workflow.Transition) -> bool:
    """Whether the actor's role and area let them take ``transition`` on ``case``."""
    if not has_role(actor, workflow.acting_roles(case.kind, case.state, transition)):
        return False
    return division_in_area(actor, case.village_id)


def _validate(case: Case, transition: workflow.Transition, data: dict[str, Any]) -> StepRecordForm:
    """The step's record form, bound and valid; ApplicationError with every field's
    problems otherwise."""
    form = record_form_class(case.kind, transition)(data, **record_form_options(case, transition))
    if form.is_valid():
        return form
    errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    raise ApplicationError(next(iter(errors.values()))[0], extra={"errors": errors})


@transaction.atomic
def case_act(
    *,
    actor: User | None,
    case: Case,
    verb: str,
    data: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> Case:
    """Take one step of a case (see ``workflow.TRANSITIONS``)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("household", "lead")
        .get(pk=case.pk)
    )
    transition = workflow.transition_for(case.kind, case.state, verb)
    if transition is None:
        raise ApplicationError(
            _("当前步骤“%(state)s”不能执行“%(verb)s”")
            % {"state": case.get_state_display(), "verb": CaseVerb(verb).label}
            if verb in CaseVerb.values
            else _("未知的操作“%(verb)s”") % {"verb": verb}
        )
    if not can_act(actor, case, transition):
        raise PermissionDenied(
            _("“%(verb)s”须由%(level)s办理")
            % {"verb": CaseVerb(verb).label, "level": _level_text(transition.level)}
        )
    form = _validate(case, transition, data or {})
    today = today or timezone.localdate()
    problem = guard_problem(
        case,
        transition,
        today,
        visit=form.cleaned_data if transition.verb == CaseVerb.VERIFY else None,
    )
    if problem is not None:
        raise problem
    return _step(
        actor=actor,
        case=case,
        transition=transition,
        record=form.as_record(),
        today=today,
        registration=form.registration(),
    )


def _level_text(level: str | None) -> str:
    if level is None:
        return _("当前办理层级或其上级的工作人员")
    return _("%(level)s工作人员") % {"level": ActingLevel(level).label}


def case_criteria(
    case: Case, today: dt.date, *, visit: dict[str, Any] | None = None
) -> list[Criterion]:
    """The elimination criteria of ``case``'s household judged on the case's own figures:
    the visit being recorded (its income and the flags it confirms), else the case's last
    verified income, else the registry's."""
    household = case.household
    if visit is None:
        return elimination_criteria(household, today=today, income=case_income(case))
    seen = copy.copy(household)
    for name in VISIT_FLAGS:
        if name in visit:
            setattr(seen, name, visit[name])
    return elimination_criteria(
        seen, today=today, income=verified_income(visit["per_capita_after_spending"])
    )


def guard_problem(
    case: Case,
    transition: workflow.Transition,
    today: dt.date,
    *,
    visit: dict[str, Any] | None = None,
) -> ApplicationError | None:
    """Why ``transition`` cannot be taken on ``today`` (the notice runs, criteria unmet), as
    the error ``case_act`` would raise; None when its guards hold. The home visit's criteria
    are judged on what it records (``visit``): before it is filled in, nothing blocks it."""
    for guard in transition.guards:
        if (
            guard == workflow.Guard.CRITERIA_MET
            and transition.verb == CaseVerb.VERIFY
            and not visit
        ):
            continue
        if guard == workflow.Guard.NOTICE_OVER:
            if case.notice_ends_on is None or today <= case.notice_ends_on:
                return ApplicationError(
                    _("公示期至 %(end)s 结束，期满后才能提交乡镇审核")
                    % {"end": case.notice_ends_on}
                )
        elif guard == workflow.Guard.CRITERIA_MET:
            unmet = [c for c in case_criteria(case, today, visit=visit) if not c.met]
            if unmet:
                return ApplicationError(
                    _("风险消除条件未满足：%(items)s")
                    % {"items": "；".join(f"{c.label}（{c.detail}）" for c in unmet)},
                    extra={"errors": {"criteria": [f"{c.label}：{c.detail}" for c in unmet]}},
                )
    return attachments_missing(case, transition)


def attachments_missing(case: Case, transition: workflow.Transition) -> ApplicationError | None:
    """The step's required attachments (a policy value per province) not yet uploaded while
    the case is at this step, as the refusal; None when all are there."""
    wanted = [
        kind
        for verb, kind, parameter in workflow.REQUIRED_ATTACHMENTS
        if verb == transition.verb and _required(parameter, case.village_id)
    ]
    if not wanted:
        return None
    last = case.transitions.filter(to_state=case.state).order_by("-id").first()
    since = last.created_at if last is not None else case.created_at
    present = set(
        case.attachments.filter(kind__in=wanted, created_at__gte=since).values_list(
            "kind", flat=True
        )
    )
    missing = [str(AttachmentKind(kind).label) for kind in wanted if kind not in present]
    if not missing:
        return None
    message = _("请先在本页“附件”中上传：%(items)s") % {"items": "、".join(missing)}
    return ApplicationError(message, extra={"errors": {"attachments": [message]}})


def _required(parameter: str, division_code: str) -> bool:
    try:
        return policy_value(parameter, division_code=division_code) > 0
    except MissingPolicyValue:
        return False


def _step(
    *,
    actor: User | None,
    case: Case,
    transition: workflow.Transition,
    record: dict[str, Any],
    today: dt.date | None = None,
    registration: HouseholdRegistration | None = None,
) -> Case:
    today = today or timezone.localdate()
    before = model_snapshot(case)
    source = case.state
    _apply_effect(actor, case, transition, record, today, registration)
    case.state = transition.target
    if case.state in workflow.FINAL_STATES:
        case.closed_at = timezone.now()
    _set_step_limit(case, today)
    case.full_clean()
    case.save()
    step = CaseTransition.objects.create(
        case=case,
        verb=transition.verb,
        from_state=source,
        to_state=case.state,
        actor=stored_actor(actor),
        data=record,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=case,
        before=before,
        after=model_snapshot(case),
        subject=household_subject(case.household_id, case),
        extra={"verb": transition.verb, "transition": step.pk},
    )
    return case


def _set_step_limit(case: Case, today: dt.date) -> None:
    """The new step's own working-day limit, if the province sets one, and the nearer limit."""
    days = (
        policy_days(workflow.STEP_LIMITS[case.state])
        if case.state in workflow.STEP_LIMITS
        else None
    )
    if days and case.state not in workflow.FINAL_STATES:
        deadline = add_working_days(today, days)
        case.step_due_on, case.step_due_estimated = deadline.due_on, deadline.estimated
    else:
        case.step_due_on, case.step_due_estimated = None, False
    case.next_due_on = min(filter(None, (case.due_on, case.step_due_on)))


def _apply_effect(
    actor: User | None,
    case: Case,
    transition: workflow.Transition,
    record: dict[str, Any],
    today: dt.date,
    registration: HouseholdRegistration | None = None,
) -> None:
    verb = transition.verb
    if verb == CaseVerb.NOMINATE:
        case.elimination_method = record["method"]
    elif verb == CaseVerb.VERIFY:
        if case.household_id is None and registration is not None:
            household, link = _household_at_visit(actor, case, registration, record)
            _link_household(actor, case, household)
            # The record says which household the visit found, and how.
            record["household_number"] = household.household_number
            record["household_link"] = link
            if link != HouseholdLink.REGISTERED:
                for name in (*HEAD_FIELDS, "household_source"):
                    record.pop(name, None)
        else:
            _registry_at_visit(actor, case.household, record)
        case.per_capita_net_income = Decimal(record["per_capita_after_spending"])
        if case.kind == CaseKind.IDENTIFICATION:
            case.proposed_category = record["proposed_category"]
            case.proposed_risk_types = record["proposed_risk_types"]
    elif verb == CaseVerb.REVIEW_REJECT:
        record["result"] = ReviewResult.DISAGREED
        case.outcome_note = record.get("note", "")
    elif verb == CaseVerb.REVIEW:
        record["result"] = ReviewResult.AGREED
        days = policy_days("notice_days") or 5
        start = today
        case.notice_started_on = start
        # The notice's last day; the next step opens the day after.
        case.notice_ends_on = start + dt.timedelta(days=days - 1)
    elif verb == CaseVerb.OBJECT:
        case.notice_started_on = None
        case.notice_ends_on = None
    elif verb == CaseVerb.APPROVE:
        month = dt.date.fromisoformat(record["decided_on"]).strftime("%Y%m")
        case.decided_month = month
        case.outcome_note = record["note"]
        _household_on_approval(actor, case, month)
    elif verb in (CaseVerb.REJECT, CaseVerb.TOWNSHIP_REJECT):
        case.outcome_note = record.get("note") or record.get("opinion") or ""
    elif verb == CaseVerb.WITHDRAW:
        case.outcome_note = record.get("reason", "")


def _registry_at_visit(actor: User | None, household: Household, record: dict[str, Any]) -> None:
    """The visit's verified figures become the registry's (one fact, recorded once): the
    income of the last 12 months and the flags the visit confirmed, with the registry's own
    audit row."""
    visited_on = dt.date.fromisoformat(record["visited_on"])
    data: dict[str, Any] = {name: Decimal(record[name]) for name in INCOME_PARTS}
    data["income_year"] = visited_on.year
    data.update({name: record[name] for name in VISIT_FLAGS if name in record})
    try:
        household_update(actor=actor, household=household, data=data)
    except ValidationError as exc:
        raise _registry_error(exc) from None
    household.refresh_from_db()


def _household_at_visit(
    actor: User | None, case: Case, registration: HouseholdRegistration, record: dict[str, Any]
) -> tuple[Household, str]:
    """The registry's household for a case that had none: the one numbered at the visit,
    the one its head's ID number is already registered in, or a new one."""
    if registration.source == HouseholdSource.EXISTING:
        household = Household.objects.filter(household_number=registration.household_number).first()
        if household is None or household.village_id != case.village_id:
            raise _field_error(
                "household_number",
                _("在%(village)s没有户编号为“%(n)s”的农户")
                % {"village": case.village.name, "n": registration.household_number},
            )
        _check_household_free(case, household)
        return household, HouseholdLink.BY_NUMBER
    return _register_household(actor, case, registration, record)


def _register_household(
    actor: User | None, case: Case, registration: HouseholdRegistration, record: dict[str, Any]
) -> tuple[Household, str]:
    """Register the household with its head through the registry's services (their audit
    rows come with them), unless the head's ID number is registered already: then that
    household is the one, and nothing is duplicated."""
    lead = case.lead
    id_number = registration.id_number or (
        crypto.decrypt(lead.id_number_encrypted)
        if lead is not None and lead.id_number_encrypted
        else ""
    )
    if not id_number:
        raise _field_error("head_id_number", _("请填写户主身份证号码"))
    person = _person_id(id_number)
    member = (
        Member.objects.select_related("household__village")
        .filter(id_number_index=person.index)
        .first()
    )
    if member is not None:
        household = member.household
        if household.village_id != case.village_id:
            raise _field_error(
                "head_id_number",
                _(
                    "该身份证号码已登记在%(village)s的农户 %(number)s 中，不在本流程所在村，"
                    "请核实后再办理"
                )
                % {"village": household.village.name, "number": household.household_number},
            )
        _check_household_free(case, household)
        return household, HouseholdLink.BY_ID_NUMBER
    if Household.objects.filter(household_number=registration.household_number).exists():
        raise _field_error(
            "household_number",
            _("户编号“%(n)s”已被其他农户使用；如该户已建档，请选择“该户已建档，按户编号关联”")
            % {"n": registration.household_number},
        )
    phone = registration.phone or (
        crypto.decrypt(lead.phone_encrypted) if lead is not None and lead.phone_encrypted else ""
    )
    visited_on = dt.date.fromisoformat(record["visited_on"])
    try:
        household = household_create(
            actor=actor,
            data={
                "household_number": registration.household_number,
                "village_id": case.village_id,
                "household_type": HouseholdType.ORDINARY,
                "income_year": visited_on.year,
                **{name: Decimal(record[name]) for name in INCOME_PARTS},
            },
            phone=phone,
        )
        member_create(
            actor=actor, household=household, id_number=id_number, data=registration.member
        )
    except ValidationError as exc:
        raise _registry_error(exc) from None
    return household, HouseholdLink.REGISTERED


#: The registry's field names, as the home-visit form names them.
_REGISTRY_TO_VISIT_FIELDS = {
    "household_number": "household_number",
    "phone": "phone",
    "id_number": "head_id_number",
    "name": "head_name",
    "ethnicity": "head_ethnicity",
    "education": "head_education",
    "health_status": "head_health_status",
    "disability_grade": "head_disability_grade",
    "labour_skill": "head_labour_skill",
}


def _registry_error(exc: ValidationError) -> ApplicationError:
    """A registry service's refusal, under the home-visit form's field names."""
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    errors = {
        _REGISTRY_TO_VISIT_FIELDS.get(name, "__all__"): messages
        for name, messages in by_field.items()
    }
    first = next(iter(errors.values()))[0]
    return ApplicationError(first, extra={"errors": errors})


def _field_error(name: str, message: str) -> ApplicationError:
    return ApplicationError(message, extra={"errors": {name: [message]}})


def _check_household_free(case: Case, household: Household) -> None:
    if (
        case.kind == CaseKind.IDENTIFICATION
        and household.monitoring_status == MonitoringStatus.RISK_UNRESOLVED
    ):
        raise ApplicationError(
            _("农户 %(n)s 已是风险未消除的监测对象，无需重复识别")
            % {"n": household.household_number}
        )
    if (
        Case.objects.filter(household=household, state__in=workflow.OPEN_STATES)
        .exclude(pk=case.pk)
        .exists()
    ):
        raise ApplicationError(
            _("农户 %(n)s 已有正在办理的流程") % {"n": household.household_number}
        )


def _link_household(actor: User | None, case: Case, household: Household) -> None:
    """Name the household on the case, its lead and the leads merged into that lead."""
    case.household = household
    case.person_name = ""
    if case.lead_id is None:
        return
    leads = Lead.objects.select_for_update().filter(
        Q(pk=case.lead_id) | Q(merged_into_id=case.lead_id), household__isnull=True
    )
    for lead in leads:
        before = model_snapshot(lead)
        lead.household = household
        lead.division = household.village
        lead.save(update_fields=["household", "division", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=lead,
            before=before,
            after=model_snapshot(lead),
            subject=household_subject(household.pk, lead),
            extra={"verb": "link_household", "case": case.pk},
        )


def _household_on_approval(actor: User | None, case: Case, month: str) -> None:
    household = case.household
    if household is None:
        raise ApplicationError(_("该流程尚未关联农户档案，请在入户核实时登记农户"))
    if case.kind == CaseKind.IDENTIFICATION:
        risks = list(case.proposed_risk_types)[:5]
        data: dict[str, Any] = {
            "monitoring_category": case.proposed_category,
            "monitoring_status": MonitoringStatus.RISK_UNRESOLVED,
            "identified_month": month,
            "eliminated_month": "",
            "elimination_method": "",
            **{f"risk_type_{i}": (risks[i - 1] if i <= len(risks) else "") for i in range(1, 6)},
        }
        if household.household_type == HouseholdType.ORDINARY:
            data["household_type"] = HouseholdType.MONITORED
    else:
        data = {
            "monitoring_status": MonitoringStatus.RISK_ELIMINATED,
            "eliminated_month": month,
            "elimination_method": case.elimination_method,
        }
    household_update(actor=actor, household=household, data=data)
