"""Screening pages: the alert list and an alert's page with its triage actions, and the
screening runs (list, the "run now" form, a run's progress and per-rule counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.core.views import denied_as_403, roles_only
from shouwang.screening import selectors, services
from shouwang.screening.choices import AggregateFunction, AlertStatus, RunStatus, RunTrigger
from shouwang.screening.evidence import (
    COMPARISON_SYMBOLS,
    alert_comparison,
    alert_evidence,
    format_number,
)
from shouwang.screening.forms import (
    HIDDEN_FILTERS,
    AlertPageFilterSet,
    AssignForm,
    DismissForm,
    LeadForm,
    RunForm,
    alert_filter_form,
)
from shouwang.screening.models import Alert, ScreeningRun
from shouwang.screening.permissions import SCREENING_VIEWERS, can_run, can_triage
from shouwang.screening.rules import source_columns
from shouwang.screening.tasks import screening_run_submit

View = Callable[..., HttpResponse]
RUNNING = (RunStatus.QUEUED, RunStatus.RUNNING)


run_viewers_only = roles_only(
    SCREENING_VIEWERS, gettext_lazy("只有区县工作人员和行业部门可以查看数据比对运行")
)


def alert_or_404(request: HttpRequest, pk: int) -> Alert:
    try:
        return selectors.alert_get(actor=request.user, pk=pk)
    except Alert.DoesNotExist:
        raise Http404 from None


# --- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    value: str
    symbol: str
    threshold: str
    #: A count of records: shown as "记录 2 条（阈值 ≥ 1 条）", not as a bare "2 ≥ 1".
    is_count: bool = False


def alert_figures(alert: Alert) -> Figures:
    """Value and threshold as a row shows them: counts without decimals, money with two."""
    aggregate = (alert.evidence or {}).get("aggregate") or {}
    whole = aggregate.get("function") == AggregateFunction.COUNT
    return Figures(
        value=format_number(alert.value, whole=whole),
        symbol=COMPARISON_SYMBOLS.get(alert.comparison, alert.comparison),
        threshold=format_number(alert.threshold, whole=whole),
        is_count=whole,
    )


@login_required
@vary_on_headers("HX-Request")
def alert_list(request: HttpRequest) -> HttpResponse:
    filterset = AlertPageFilterSet(request.GET, queryset=selectors.alert_list(actor=request.user))
    filter_form = alert_filter_form(filterset.form, actor=request.user)
    items = selectors.alert_items(filterset.qs)
    page = Paginator(items, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    siblings = selectors.alert_siblings(actor=request.user, alerts=list(page.object_list))
    for alert in page.object_list:
        alert.figures = alert_figures(alert)
        alert.item_siblings = siblings.get(alert.pk, [])
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    hidden = [
        (name, filter_form[name].label, filter_form.data.get(name))
        for name in HIDDEN_FILTERS
        if filter_form.data.get(name)
    ]
    context = {"filter_form": filter_form, "page": page, "partial": partial, "hidden": hidden}
    return render(
        request,
        "screening/_alert_results.html" if partial else "screening/alert_list.html",
        context,
    )


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent | None
    when: Any
    actor: str
    verb: str
    status: str
    details: list[tuple[str, str]]


VERBS = {
    "dismiss": gettext_lazy("排除"),
    "assign": gettext_lazy("交办入户核实"),
    "open_lead": gettext_lazy("转为线索"),
}


def _history(alert: Alert) -> list[HistoryEntry]:
    """The alert's life, oldest first: raised by a run, then every triage step from the audit log."""
    statuses = dict(AlertStatus.choices)
    entries = [
        HistoryEntry(
            event=None,
            when=alert.created_at,
            actor=_("数据比对"),
            verb=_("生成预警"),
            status=str(statuses[AlertStatus.OPEN]),
            details=[(_("比对运行"), f"#{alert.run_id}")],
        )
    ]
    events, names = selectors.alert_history(alert=alert)
    for event in reversed(events):
        after = event.after or {}
        details = []
        assignee = after.get("assigned_to_id")
        if event.extra.get("verb") == "assign" and assignee:
            details.append((_("交办给"), names.get(assignee, f"#{assignee}")))
        if after.get("resolution_note") and after.get("resolution_note") != (
            event.before or {}
        ).get("resolution_note"):
            details.append((_("说明"), after["resolution_note"]))
        entries.append(
            HistoryEntry(
                event=event,
                when=event.created_at,
                actor=str(event.actor) if event.actor else _("系统"),
                verb=str(VERBS.get(event.extra.get("verb"), event.get_action_display())),
                status=str(statuses.get(after.get("status"), after.get("status", ""))),
                details=details,
            )
        )
    return entries


def _rule_spec(alert: Alert) -> dict[str, Any]:
    """The spec of the rule version that raised the alert (the current one if it is gone)."""
    version = selectors.rule_versions(rule=alert.rule).filter(version=alert.rule_version).first()
    return version.spec if version is not None else alert.rule.spec


def render_alert_detail(
    request: HttpRequest,
    alert: Alert,
    *,
    dismiss_form: DismissForm | None = None,
    assign_form: AssignForm | None = None,
    lead_form: LeadForm | None = None,
    open_action: str = "",
) -> HttpResponse:
    spec = _rule_spec(alert)
    feed = spec.get("feed")
    columns = source_columns().get(feed) if feed else None
    triage = can_triage(request.user) and alert.status in services.UNRESOLVED
    # A refused action on an alert decided meanwhile (another tab): no forms show, the reason does.
    bound = dismiss_form or assign_form or lead_form
    refusals = [] if triage or bound is None else list(bound.non_field_errors())
    assignees = selectors.alert_assignees(actor=request.user, alert=alert)
    siblings = selectors.alert_siblings(actor=request.user, alerts=[alert])[alert.pk]
    for sibling in siblings:
        sibling.figures = alert_figures(sibling)
    context = {
        "alert": alert,
        "figures": alert_figures(alert),
        "siblings": siblings,
        "unresolved_siblings": [s for s in siblings if s.status in services.UNRESOLVED],
        "compared": alert_comparison(alert, spec=spec, columns=columns),
        "evidence": alert_evidence(alert),
        "history": _history(alert),
        "can_triage": triage,
        "refusals": refusals,
        "dismiss_form": dismiss_form or DismissForm(),
        "assign_form": assign_form or AssignForm(assignees=assignees),
        "lead_form": lead_form or LeadForm(),
        "open_action": open_action,
    }
    return render(request, "screening/alert_detail.html", context)


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_alert_detail(request, alert_or_404(request, pk))


def form_service_error(form: Any, exc: ApplicationError) -> None:
    """A refusal shows above the form; the input stays in it."""
    form.add_error(None, exc.message)


@require_POST
@denied_as_403
def alert_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.alert_dismiss(
                actor=request.user, alert=alert, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form_service_error(form, exc)
        else:
            messages.success(request, _("已排除该预警。"))
            return redirect("screening:alert_detail", pk=alert.pk)
    return render_alert_detail(request, alert, dismiss_form=form, open_action="dismiss")


@require_POST
@denied_as_403
def alert_assign(request: HttpRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = AssignForm(
        request.POST, assignees=selectors.alert_assignees(actor=request.user, alert=alert)
    )
    if form.is_valid():
        try:
            assigned = services.alert_assign(
                actor=request.user,
                alert=alert,
                assignee=form.cleaned_data["assignee"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form_service_error(form, exc)
        else:
            assignee = assigned.assigned_to
            messages.success(
                request,
                _("已交办给 %(name)s 入户核实。")
                % {"name": assignee.display_name or assignee.username},
            )
            return redirect("screening:alert_detail", pk=alert.pk)
    return render_alert_detail(request, alert, assign_form=form, open_action="assign")


# --- runs --------------------------------------------------------------------------------


def seconds(milliseconds: int | None) -> str:
    if not milliseconds:
        return "—"
    return _("%(s)s 秒") % {"s": format_number(milliseconds / 1000)}


def _run_rows(runs: list[ScreeningRun]) -> list[ScreeningRun]:
    for run in runs:
        run.duration_text = seconds(run.duration_ms)
    return runs


@run_viewers_only
@vary_on_headers("HX-Request")
def run_list(request: HttpRequest) -> HttpResponse:
    form = None
    if can_run(request.user):
        form = RunForm(request.POST or None, initial={"period": services.default_period()})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("只有区县工作人员可以发起数据比对"))
        if form.is_valid():
            try:
                run = screening_run_submit(
                    actor=request.user,
                    engine=form.cleaned_data["engine"],
                    period=form.cleaned_data["period"],
                    rule_slugs=[r.slug for r in form.cleaned_data["rules"]] or None,
                    trigger=RunTrigger.PAGE,
                )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                form_service_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已发起 %(period)s 期数据比对（#%(id)d）。")
                    % {"period": run.period, "id": run.pk},
                )
                return redirect("screening:run_detail", pk=run.pk)
    page = Paginator(selectors.run_list(), settings.SHOUWANG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    runs = _run_rows(list(page.object_list))
    context = {
        "form": form,
        "page": page,
        "runs": runs,
        "polling": any(r.status in RUNNING for r in runs),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(
        request, "screening/_run_results.html" if partial else "screening/run_list.html", context
    )


@dataclass(frozen=True)
class RuleCounts:
    slug: str
    name: str
    version: int | None
    matches: int
    new: int
    existing: int
    updated: int
    milliseconds: int | None
    error: str


PHASES = {
    "compile": gettext_lazy("编译规则"),
    "snapshot": gettext_lazy("读取档案快照"),
    "engine": gettext_lazy("引擎计算"),
    "alerts": gettext_lazy("写入预警"),
}


def _rule_counts(run: ScreeningRun) -> list[RuleCounts]:
    names = dict(selectors.rule_list().filter(slug__in=list(run.rules)).values_list("slug", "name"))
    rows = []
    for slug in sorted(set(run.rules) | set(run.counts)):
        counts = run.counts.get(slug) or {}
        rows.append(
            RuleCounts(
                slug=slug,
                name=names.get(slug, slug),
                version=run.rules.get(slug),
                matches=counts.get("matches", 0),
                new=counts.get("new", 0),
                existing=counts.get("existing", 0),
                updated=counts.get("updated", 0),
                milliseconds=counts.get("ms"),
                error=counts.get("error", ""),
            )
        )
    return rows


@run_viewers_only
@vary_on_headers("HX-Request")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's page; htmx polls it for the status partial while the run is queued or running."""
    try:
        run = selectors.run_get(pk=pk)
    except ScreeningRun.DoesNotExist:
        raise Http404 from None
    context = {
        "run": run,
        "running": run.status in RUNNING,
        "duration": seconds(run.duration_ms),
        "rule_counts": _rule_counts(run) if run.status not in RUNNING else [],
        "phases": [(str(PHASES.get(k, k)), seconds(v)) for k, v in (run.timings or {}).items()],
    }
    template = (
        "screening/_run_status.html"
        if request.htmx and not request.htmx.history_restore_request
        else "screening/run_detail.html"
    )
    return render(request, template, context)
