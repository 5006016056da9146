"""The public self-application (no login): a household applies from a phone, gets a tracking
code, and later looks up where its application stands (no personal data shown).

Both pages are rate-limited per client address with DRF's cache-backed throttle, the one the
API's token endpoint uses.
"""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shouwang.cases import services, workflow
from shouwang.cases.choices import CaseKind
from shouwang.cases.lead_forms import ApplyForm, StatusForm
from shouwang.cases.lead_selectors import PublicStage, application_status
from shouwang.core.exceptions import ApplicationError

#: The session key that carries a new application's code to the result page.
SESSION_CODE = "apply_tracking_code"


class ClientAddressThrottle(SimpleRateThrottle):
    """Counts a client address's requests in Django's cache.

    X-Forwarded-For is trusted only when ``REST_FRAMEWORK["NUM_PROXIES"]`` says how many
    proxies stand in front; otherwise anyone could dodge the limit by sending that header.
    """

    def get_ident(self, request: HttpRequest) -> str:  # type: ignore[override]
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request: HttpRequest, view: object) -> str:  # type: ignore[override]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApplicationThrottle(ClientAddressThrottle):
    scope = "public_apply"
    rate = "5/hour"


class StatusLookupThrottle(ClientAddressThrottle):
    scope = "public_status"
    rate = "30/hour"


def _too_many(request: HttpRequest, throttle: SimpleRateThrottle, what: str) -> HttpResponse:
    wait = throttle.wait() or 60
    minutes = max(1, math.ceil(wait / 60))
    response = render(
        request, "cases/apply_limited.html", {"what": what, "minutes": minutes}, status=429
    )
    response["Retry-After"] = str(math.ceil(wait))
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Only complete applications count, so a household correcting its input is not blocked.
        throttle = ApplicationThrottle()
        if not throttle.allow_request(request, None):
            return _too_many(request, throttle, _("提交申请"))
        data = form.cleaned_data
        try:
            lead = services.lead_self_apply(
                village=data["village"],
                applicant_name=data["applicant_name"],
                id_number=data["id_number"],
                phone=data["phone"],
                description=data["description"],
                pledge_signed=data["pledge_signed"],
                asset_check_consent=data["asset_check_consent"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[SESSION_CODE] = lead.tracking_code
            return redirect("apply:done")
    return render(request, "cases/apply_form.html", {"form": form})


@require_GET
def apply_villages(request: HttpRequest) -> HttpResponse:
    """The village dropdown for the chosen township (htmx swaps it in)."""
    form = ApplyForm()
    form.show_villages_of((request.GET.get("township") or "").strip())
    return render(request, "cases/apply_village_field.html", {"form": form})


@never_cache
@require_GET
def apply_done(request: HttpRequest) -> HttpResponse:
    code = request.session.get(SESSION_CODE)
    if not code:
        return redirect("apply:apply")
    return render(request, "cases/apply_done.html", {"tracking_code": code})


@never_cache
@require_http_methods(["GET", "POST"])
def apply_status(request: HttpRequest) -> HttpResponse:
    form = StatusForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        throttle = StatusLookupThrottle()
        if not throttle.allow_request(request, None):
            return _too_many(request, throttle, _("查询办理进度"))
        result = application_status(tracking_code=form.cleaned_data["tracking_code"])
        if result is None:
            form.add_error("tracking_code", _("没有找到这个查询码，请核对后重新输入"))
    steps = [label for label, _states in workflow.STEPS[CaseKind.IDENTIFICATION]]
    context = {"form": form, "result": result, "stage": PublicStage, "steps": steps}
    return render(request, "cases/apply_status.html", context)
