"""Leads inbox pages: the list of leads in the user's area, a lead's page with its actions
(open an identification case, close with a reason) and the form cadres record a lead with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.cases import lead_selectors, services
from shouwang.cases.choices import LeadStatus
from shouwang.cases.lead_forms import (
    CaseOpenForm,
    LeadCloseForm,
    LeadCreateForm,
    LeadPageFilterSet,
    lead_filter_form,
)
from shouwang.cases.models import Case, Lead
from shouwang.core.choices import DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.views import roles_only

lead_viewers_only = roles_only(
    lead_selectors.LEAD_VIEWERS, gettext_lazy("只有村、乡镇（街道）和区县工作人员可以查看线索")
)


def case_url(case: Case) -> str | None:
    """The case's page, when the case pages are installed."""
    try:
        return reverse("cases:case_detail", args=[case.pk])
    except NoReverseMatch:
        return None


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    try:
        return lead_selectors.lead_get(actor=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise Http404 from None


def _with_case_links(leads: list[Lead]) -> list[Lead]:
    for lead in leads:
        lead.case_links = [(case, case_url(case)) for case in lead.cases.all()]
    return leads


@lead_viewers_only
@vary_on_headers("HX-Request")
def lead_list(request: HttpRequest) -> HttpResponse:
    filterset = LeadPageFilterSet(
        request.GET, queryset=lead_selectors.lead_list(actor=request.user)
    )
    filter_form = lead_filter_form(filterset.form, actor=request.user)
    page = Paginator(filterset.qs, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    leads = _with_case_links(list(page.object_list))
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {"filter_form": filter_form, "page": page, "leads": leads, "partial": partial}
    return render(
        request, "cases/lead_results.html" if partial else "cases/lead_list.html", context
    )


def _needs_village(lead: Lead) -> bool:
    return lead.household_id is None and lead.division.level != DivisionLevel.VILLAGE


def _render_detail(
    request: HttpRequest,
    lead: Lead,
    *,
    open_form: CaseOpenForm | None = None,
    close_form: LeadCloseForm | None = None,
    open_action: str = "",
    status: int = 200,
) -> HttpResponse:
    villages = (
        lead_selectors.lead_villages(actor=request.user, lead=lead)
        if _needs_village(lead)
        else None
    )
    can_handle = lead.status == LeadStatus.OPEN
    # A refused action on a lead handled meanwhile (another tab): no forms show, the reason does.
    bound = open_form or close_form
    refusals = [] if can_handle or bound is None else list(bound.non_field_errors())
    context: dict[str, Any] = {
        "lead": lead,
        "refusals": refusals,
        "merged": list(lead.merged.all()),
        "case_links": _with_case_links([lead])[0].case_links,
        "can_handle": can_handle,
        "open_form": open_form or CaseOpenForm(villages=villages),
        "close_form": close_form or LeadCloseForm(),
        "open_action": open_action,
    }
    return render(request, "cases/lead_detail.html", context, status=status)


@lead_viewers_only
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _lead_or_404(request, pk))


@require_POST
@lead_viewers_only
def lead_open_case(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    villages = (
        lead_selectors.lead_villages(actor=request.user, lead=lead)
        if _needs_village(lead)
        else None
    )
    form = CaseOpenForm(request.POST, villages=villages)
    if form.is_valid():
        try:
            case = services.case_open(
                actor=request.user,
                lead=lead,
                village=form.cleaned_data.get("village"),
                green_channel=form.cleaned_data["green_channel"],
                green_channel_reason=form.cleaned_data["green_channel_reason"],
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已启动监测对象识别（流程 #%(id)d），当前步骤：%(state)s。")
                % {"id": case.pk, "state": case.get_state_display()},
            )
            return redirect(case_url(case) or reverse("leads:lead_detail", args=[lead.pk]))
    return _render_detail(request, lead, open_form=form, open_action="open")


@require_POST
@lead_viewers_only
def lead_close(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = LeadCloseForm(request.POST)
    if form.is_valid():
        try:
            services.lead_close(actor=request.user, lead=lead, reason=form.cleaned_data["reason"])
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已关闭该线索。"))
            return redirect("leads:lead_detail", pk=lead.pk)
    return _render_detail(request, lead, close_form=form, open_action="close")


@lead_viewers_only
def lead_create(request: HttpRequest) -> HttpResponse:
    form = LeadCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = data["household"]
        try:
            lead = services.lead_create(
                actor=request.user,
                channel=data["channel"],
                division=household.village if household else data["village"],
                household=household,
                description=data["description"],
                received_on=data["received_on"],
                person_name="" if household else data["person_name"],
                id_number="" if household else data["id_number"],
                phone=data["phone"],
                address=data["address"],
                reporter_name=data["reporter_name"],
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if lead.merged_into_id:
                messages.info(
                    request,
                    _("该户已有待处理的线索 #%(id)d，本条线索已合并到其下。")
                    % {"id": lead.merged_into_id},
                )
            else:
                messages.success(request, _("已登记线索 #%(id)d。") % {"id": lead.pk})
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(request, "cases/lead_form.html", {"form": form})
