"""Case pages: the list of identification and elimination cases, a case's page with the steps
open to the user, attachments, starting risk elimination, and a village's printable notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.cases import selectors, services, workflow
from shouwang.cases.attachment_services import attachment_content_type, case_attachment_add
from shouwang.cases.choices import (
    ActingLevel,
    AttachmentKind,
    CaseKind,
    CaseState,
    CaseVerb,
    ReviewResult,
)
from shouwang.cases.criteria import elimination_criteria
from shouwang.cases.deadlines import urgency
from shouwang.cases.filters import OPEN, CaseFilterSet
from shouwang.cases.forms import (
    AttachmentForm,
    case_filter_form,
    step_form,
    unprefixed,
)
from shouwang.cases.models import Case, CaseAttachment, CaseTransition
from shouwang.cases.records import HouseholdLink, StepRecordForm, record_form_class
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import REGISTRY_EDITORS, has_role
from shouwang.core.models import Division
from shouwang.core.views import roles_only
from shouwang.registry.choices import EliminationMethod, MonitoringStatus, RiskType
from shouwang.registry.io.columns import division_short_name
from shouwang.registry.models import Household

case_viewers_only = roles_only(
    selectors.CASE_VIEWERS,
    gettext_lazy("只有村、乡镇（街道）和区县工作人员可以查看识别和风险消除流程"),
)

#: The step that moves a case forward, shown first and open; the others are alternatives.
FORWARD_VERBS = (
    CaseVerb.APPLY,
    CaseVerb.NOMINATE,
    CaseVerb.VERIFY,
    CaseVerb.REVIEW,
    CaseVerb.CLOSE_NOTICE,
    CaseVerb.TOWNSHIP_APPROVE,
    CaseVerb.APPROVE,
)
#: Steps that end or send back a case: a red button.
STOPPING_VERBS = (
    CaseVerb.REVIEW_REJECT,
    CaseVerb.TOWNSHIP_REJECT,
    CaseVerb.REJECT,
    CaseVerb.WITHDRAW,
)
#: Figures the home visit computes, which no form field labels.
COMPUTED_LABELS = {
    "net_income": gettext_lazy("家庭纯收入（元）"),
    "per_capita_net_income": gettext_lazy("人均纯收入（元）"),
    "per_capita_after_spending": gettext_lazy("扣除合规自付支出后人均纯收入（元）"),
}


def _case_or_404(request: HttpRequest, pk: int) -> Case:
    try:
        return selectors.case_get(actor=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None


# --- rows and steps ----------------------------------------------------------------------


@dataclass(frozen=True)
class StepPosition:
    number: int
    total: int


def step_position(case: Case) -> StepPosition | None:
    """Which of the procedure's steps the case is at (1-based); None once it is finished."""
    index = workflow.step_index(case.kind, case.state)
    if index is None:
        return None
    return StepPosition(index + 1, len(workflow.STEPS[case.kind]))


@dataclass(frozen=True)
class LadderStep:
    number: int
    label: str
    status: str  # done, current, todo


def step_ladder(case: Case, steps_taken: list[CaseTransition]) -> list[LadderStep]:
    steps = workflow.STEPS[case.kind]
    current = workflow.step_index(case.kind, case.state)
    ladder = []
    for index, (label, _states) in enumerate(steps):
        if current is None:
            # Approved: every step was taken; rejected or withdrawn: the steps stay as they were.
            status = "done" if case.state == CaseState.APPROVED else "todo"
        elif index < current:
            status = "done"
        elif index == current:
            status = "current"
        else:
            status = "todo"
        ladder.append(LadderStep(index + 1, str(label), status))
    if current is None and case.state != CaseState.APPROVED:
        # Show how far the case came before it stopped.
        reached = {t.from_state for t in steps_taken}
        for i, (label, states) in enumerate(steps):
            if states & reached or (not states and case.kind == CaseKind.IDENTIFICATION):
                ladder[i] = LadderStep(i + 1, str(label), "done")
    return ladder


# --- the timeline ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    step: CaseTransition
    actor: str
    verb: str
    to_state: str
    details: list[tuple[str, str]]
    attachments: list[CaseAttachment] = field(default_factory=list)


def _money(value: Any) -> str:
    try:
        return number_format(Decimal(str(value)), 2)
    except (InvalidOperation, ValueError):
        return str(value)


def _readable(form_field: forms.Field, value: Any) -> str:
    if isinstance(form_field, forms.BooleanField) or isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(form_field, forms.ChoiceField):
        labels = {str(k): str(v) for k, v in form_field.choices}
        if isinstance(value, list):
            return "、".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if isinstance(form_field, forms.DecimalField):
        return _money(value)
    return str(value)


def record_details(form_class: type[StepRecordForm] | None, data: dict[str, Any]) -> list:
    """A step's record as (label, text) rows, labels from the record's form."""
    fields = form_class.base_fields if form_class is not None else {}
    # In the form's order, computed figures after it: PostgreSQL's jsonb keeps no key order.
    order = {name: i for i, name in enumerate([*fields, *COMPUTED_LABELS])}
    rows = []
    for name, value in sorted(data.items(), key=lambda item: order.get(item[0], len(order))):
        if value in ("", None, []):
            continue
        form_field = fields.get(name)
        if form_field is not None:
            rows.append((str(form_field.label), _readable(form_field, value)))
        elif name in COMPUTED_LABELS:
            rows.append((str(COMPUTED_LABELS[name]), _money(value)))
        elif name == "result":
            rows.append((_("评议结果"), str(dict(ReviewResult.choices).get(value, value))))
        elif name == "attendee_count":
            rows.append((_("参会人数"), str(value)))
        elif name == "household_link":
            links = dict(HouseholdLink.choices)
            rows.append((_("农户档案"), str(links.get(value, value))))
        else:
            rows.append((name, str(value)))
    return rows


def case_timeline(case: Case, steps: list[CaseTransition]) -> list[TimelineEntry]:
    states = dict(CaseState.choices)
    entries = []
    for step in steps:
        transition = workflow.transition_for(case.kind, step.from_state, step.verb)
        form_class = record_form_class(case.kind, transition) if transition is not None else None
        if step.actor is not None:
            actor = step.actor.display_name or step.actor.username
        else:
            actor = _("系统（农户自主申报）") if step.verb == CaseVerb.APPLY else _("系统")
        entries.append(
            TimelineEntry(
                step=step,
                actor=actor,
                verb=step.get_verb_display(),
                to_state=str(states.get(step.to_state, step.to_state)),
                details=record_details(form_class, step.data or {}),
                attachments=list(step.attachments.all()),
            )
        )
    return entries


# --- actions -----------------------------------------------------------------------------


@dataclass
class Action:
    transition: workflow.Transition
    label: str
    form: StepRecordForm
    blocked: str
    is_open: bool
    danger: bool


@dataclass(frozen=True)
class Waiting:
    level: str
    verbs: list[str]


def _blocked_reason(case: Case, transition: workflow.Transition, today: dt.date) -> str:
    """Why the step cannot be taken today (the notice runs, criteria unmet), or ""."""
    # The service's own guard check, so the page and the refusal never disagree.
    problem = services.guard_problem(case, transition, today)
    return problem.message if problem else ""


def case_actions(
    request: HttpRequest,
    case: Case,
    today: dt.date,
    *,
    bound: StepRecordForm | None = None,
) -> tuple[list[Action], list[Waiting]]:
    """The steps this user may take now, each with its record form, and who else is awaited."""
    transitions = sorted(
        workflow.transitions_from(case.kind, case.state),
        key=lambda t: (t.verb not in FORWARD_VERBS, t.verb == CaseVerb.WITHDRAW),
    )
    actions: list[Action] = []
    waiting: dict[str, list[str]] = {}
    for transition in transitions:
        if not services.can_act(request.user, case, transition):
            if transition.level is not None:
                level = str(ActingLevel(transition.level).label)
                waiting.setdefault(level, []).append(str(CaseVerb(transition.verb).label))
            continue
        is_bound = bound is not None and bound.prefix == transition.verb
        form = bound if is_bound else step_form(case, transition, today=today, actor=request.user)
        blocked = _blocked_reason(case, transition, today)
        actions.append(
            Action(
                transition=transition,
                label=str(CaseVerb(transition.verb).label),
                form=form,
                blocked=blocked,
                is_open=is_bound,
                danger=transition.verb in STOPPING_VERBS,
            )
        )
    if bound is None and actions and actions[0].transition.verb in FORWARD_VERBS:
        actions[0].is_open = True
    return actions, [Waiting(level, verbs) for level, verbs in waiting.items()]


def _show_service_errors(form: forms.Form, exc: ApplicationError) -> None:
    """A refusal shows on the form it came from: field errors under their fields, anything
    else above the form; the input stays."""
    form.is_valid()
    field_errors = False
    for name, texts in (exc.extra.get("errors") or {}).items():
        if name in form.fields:
            field_errors = True
            for text in texts:
                if text not in form.errors.get(name, []):
                    form.add_error(name, text)
    if not field_errors and exc.message not in form.errors.get(NON_FIELD_ERRORS, []):
        form.add_error(None, exc.message)


# --- pages -------------------------------------------------------------------------------


@case_viewers_only
@vary_on_headers("HX-Request")
def case_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if not data.get("state"):
        data["state"] = OPEN  # open cases unless asked otherwise
    filterset = CaseFilterSet(data, queryset=selectors.case_list(actor=request.user))
    filter_form = case_filter_form(filterset.form, actor=request.user)
    page = Paginator(filterset.qs, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for case in page.object_list:
        case.position = step_position(case)
        case.urgency = (
            urgency(case.next_due_on, today) if case.state in workflow.OPEN_STATES else ""
        )
        case.days_left = (case.next_due_on - today).days
        case.days_over = -case.days_left
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context: dict[str, Any] = {"filter_form": filter_form, "page": page, "partial": partial}
    if not partial:  # the panels above the filters stay as they are on an htmx swap
        context["deadline_counts"] = selectors.deadline_counts_by_village(
            actor=request.user, today=today
        )
        context["notice_villages"] = selectors.notice_villages(actor=request.user)
    return render(
        request, "cases/_case_results.html" if partial else "cases/case_list.html", context
    )


def _render_detail(
    request: HttpRequest,
    case: Case,
    *,
    bound: StepRecordForm | None = None,
    attachment_form: AttachmentForm | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    steps = selectors.case_transitions(case=case)
    actions, waiting = case_actions(request, case, today, bound=bound)
    is_open = case.state in workflow.OPEN_STATES
    # Criteria are as of today: shown while the case runs, not on a decided one.
    criteria = (
        services.case_criteria(case, today)
        if is_open and case.kind == CaseKind.ELIMINATION and case.household is not None
        else []
    )
    attachments = selectors.case_attachments(case=case)
    for attachment in attachments:
        attachment.is_pdf = attachment_content_type(attachment.file.name) == "application/pdf"
    risk_labels = dict(RiskType.choices)
    visits = [t for t in steps if t.verb == CaseVerb.VERIFY]
    visit_size = (visits[-1].data or {}).get("member_count") if visits else None
    context = {
        "case": case,
        "position": step_position(case),
        "ladder": step_ladder(case, steps),
        "urgency": urgency(case.next_due_on, today) if is_open else "",
        "days_left": (case.next_due_on - today).days,
        "days_over": (today - case.next_due_on).days,
        "is_open": is_open,
        "timeline": case_timeline(case, steps),
        "attachments": attachments,
        "proposed_risks": [str(risk_labels.get(r, r)) for r in case.proposed_risk_types],
        # Registered at the visit with its head only: the other members are still to add.
        "members_missing": (
            visit_size - case.household.member_count
            if case.household is not None
            and isinstance(visit_size, int)
            and visit_size > case.household.member_count
            else 0
        ),
        "visit_size": visit_size,
        "criteria": criteria,
        "criteria_met": all(c.met for c in criteria),
        "actions": actions,
        "waiting": waiting,
        "attachment_form": attachment_form
        or AttachmentForm(initial={"kind": _kind_wanted_now(case)}),
        "can_attach": has_role(request.user, REGISTRY_EDITORS),
        "elimination_method": (
            EliminationMethod(case.elimination_method).label if case.elimination_method else ""
        ),
    }
    return render(request, "cases/case_detail.html", context)


def _kind_wanted_now(case: Case) -> str:
    """The attachment the case's next step requires, so the upload form starts with it."""
    verbs = {t.verb for t in workflow.transitions_from(case.kind, case.state)}
    for verb, kind, _parameter in workflow.REQUIRED_ATTACHMENTS:
        if verb in verbs:
            return kind
    return AttachmentKind.OTHER


@case_viewers_only
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _case_or_404(request, pk))


@require_POST
@case_viewers_only
def case_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    transition = workflow.transition_for(case.kind, case.state, verb)
    if transition is None:
        # Usually another user took the step meanwhile: the page shows where the case is now.
        messages.error(
            request,
            _("该流程当前处于“%(state)s”，不能执行此操作，请查看最新进度。")
            % {"state": case.get_state_display()},
        )
        return redirect("cases:case_detail", pk=case.pk)
    form = step_form(
        case, transition, data=request.POST, today=timezone.localdate(), actor=request.user
    )
    try:
        services.case_act(
            actor=request.user, case=case, verb=verb, data=unprefixed(form, request.POST)
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        _show_service_errors(form, exc)
        return _render_detail(request, case, bound=form)
    case.refresh_from_db()
    messages.success(
        request,
        _("已办理“%(verb)s”，当前步骤：%(state)s。")
        % {"verb": CaseVerb(verb).label, "state": case.get_state_display()},
    )
    if verb == CaseVerb.VERIFY:
        _say_how_the_household_was_found(request, case)
    return redirect("cases:case_detail", pk=case.pk)


def _say_how_the_household_was_found(request: HttpRequest, case: Case) -> None:
    """After a home visit that registered or linked the household: what happened to the
    registry, in words."""
    step = case.transitions.filter(verb=CaseVerb.VERIFY).order_by("-id").first()
    link = (step.data or {}).get("household_link") if step is not None else None
    if link is None or case.household is None:
        return
    household = case.household
    if link == HouseholdLink.REGISTERED:
        text = _(
            "已在农户档案中登记户 %(number)s（户主 %(head)s）。其他家庭成员请到农户档案页面添加。"
        )
    elif link == HouseholdLink.BY_ID_NUMBER:
        text = _(
            "户主身份证号码已登记在农户 %(number)s（户主 %(head)s）中，已关联该户，未重复建档。"
        )
    else:
        text = _("已关联农户 %(number)s（户主 %(head)s）。")
    messages.info(
        request, text % {"number": household.household_number, "head": household.head_name or "—"}
    )


@require_POST
@case_viewers_only
def case_attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            case_attachment_add(
                actor=request.user,
                case=case,
                file=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            _show_service_errors(form, exc)
        else:
            messages.success(request, _("附件已上传。"))
            return redirect(f"{reverse('cases:case_detail', args=[case.pk])}#attachments")
    return _render_detail(request, case, attachment_form=form)


@case_viewers_only
def case_attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    try:
        attachment = selectors.case_attachment_get(case=case, pk=attachment_pk)
        handle = attachment.file.open("rb")
    except (CaseAttachment.DoesNotExist, FileNotFoundError):
        raise Http404 from None
    name = PurePath(attachment.file.name).name
    return FileResponse(handle, filename=name, content_type=attachment_content_type(name))


# --- starting risk elimination -----------------------------------------------------------


@case_viewers_only
def elimination_candidates(request: HttpRequest) -> HttpResponse:
    ready_only = request.GET.get("ready") == "1"
    rows = selectors.elimination_candidate_rows(
        actor=request.user, today=timezone.localdate(), ready_only=ready_only
    )
    page = Paginator(rows, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "ready_only": ready_only}
    return render(request, "cases/elimination_candidates.html", context)


@case_viewers_only
def elimination_start(request: HttpRequest, household_id: int) -> HttpResponse:
    try:
        household = selectors.elimination_household_get(actor=request.user, pk=household_id)
    except Household.DoesNotExist:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            case = services.elimination_open(actor=request.user, household=household)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, _("已启动风险消除，请由村（社区）提名。"))
            return redirect("cases:case_detail", pk=case.pk)
    today = timezone.localdate()
    criteria = elimination_criteria(household, today=today)
    context = {
        "household": household,
        "criteria": criteria,
        "criteria_met": all(c.met for c in criteria),
        "open_case": selectors.household_open_case(household=household),
        "monitored": household.monitoring_status == MonitoringStatus.RISK_UNRESOLVED,
        "error": error,
    }
    return render(request, "cases/elimination_start.html", context)


# --- the public notice -------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    """One line of a notice: a name and the reason, nothing else (no ID, phone, bank account
    or health details may be posted)."""

    name: str
    elimination: bool
    kind: str
    reason: str
    starts_on: dt.date | None
    ends_on: dt.date | None


def notice_row(case: Case) -> NoticeRow:
    elimination = case.kind == CaseKind.ELIMINATION
    if not elimination:
        # The category, not the risk types: 因病 or 因残 would post a health status.
        kind = _("拟纳入防止返贫监测对象")
        reason = case.get_proposed_category_display() or "—"
    else:
        kind = _("拟标注风险消除")
        reason = (
            str(EliminationMethod(case.elimination_method).label)
            if case.elimination_method
            else "—"
        )
    name = (case.household.head_name if case.household else "") or case.person_name or "—"
    return NoticeRow(
        name, elimination, str(kind), str(reason), case.notice_started_on, case.notice_ends_on
    )


def _committee(village: Division) -> str:
    """Where objections go in the village: its 村民委员会 (居民委员会 for a community).
    Statistical names already are the committee's (向前村村民委员会)."""
    if village.name.endswith("委员会"):
        return village.name
    suffix = _("居民委员会") if village.name.endswith("社区") else _("村民委员会")
    return f"{village.name}{suffix}"


def _government(township: Division | None) -> str:
    if township is None:
        return str(_("乡镇人民政府"))
    suffix = _("办事处") if township.name.endswith("街道") else _("人民政府")
    return f"{township.name}{suffix}"


@case_viewers_only
def notice(request: HttpRequest, village_code: str) -> HttpResponse:
    try:
        village = selectors.notice_village_get(actor=request.user, code=village_code)
    except Division.DoesNotExist:
        raise Http404 from None
    rows = [notice_row(case) for case in selectors.notice_cases(village=village)]
    starts = [r.starts_on for r in rows if r.starts_on]
    ends = [r.ends_on for r in rows if r.ends_on]
    context = {
        "village": village,
        "place": "".join(
            division_short_name(d.name) for d in (village.parent, village) if d is not None
        ),
        "rows": rows,
        "starts_on": min(starts) if starts else None,
        "ends_on": max(ends) if ends else None,
        "has_identification": any(not r.elimination for r in rows),
        "has_elimination": any(r.elimination for r in rows),
        "notice_days": services.policy_days("notice_days") or 5,
        "committee": _committee(village),
        "government": _government(village.parent),
    }
    return render(request, "cases/notice.html", context)
