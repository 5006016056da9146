"""Turning a screening alert into a lead: the action sits on the alert's page (screening),
and its writer is the leads' (cases), so the view stands on the cases floor."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouwang.cases.services import lead_from_alert
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.views import denied_as_403
from shouwang.screening.forms import LeadForm
from shouwang.screening.views import alert_or_404, form_service_error, render_alert_detail


@require_POST
@denied_as_403
def alert_open_lead(request: HttpRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = LeadForm(request.POST)
    if form.is_valid():
        try:
            lead = lead_from_alert(actor=request.user, alert=alert, note=form.cleaned_data["note"])
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form_service_error(form, exc)
        else:
            messages.success(request, _("已将该预警转为线索，等待识别认定。"))
            return redirect("leads:lead_detail", pk=lead.pk)
    return render_alert_detail(request, alert, lead_form=form, open_action="lead")
