"""Pages of social help: the offers (list, registration, detail with its matches and the
proposal button) and the matches waiting for a planner's decision (待确认对接)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.assistance import permissions as perms
from shouwang.assistance import social_selectors as sel
from shouwang.assistance import social_services as services
from shouwang.assistance.choices import MatchStatus, OfferStatus
from shouwang.assistance.models import SocialMatch, SocialOffer
from shouwang.assistance.social_filters import LIVE, MatchFilterSet, OfferFilterSet
from shouwang.assistance.social_forms import (
    MatchConfirmForm,
    MatchDeclineForm,
    OfferCloseForm,
    OfferForm,
    add_service_error,
)
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.views import roles_only

viewers_only = roles_only(
    sel.SOCIAL_VIEWERS,
    gettext_lazy("只有区县、乡镇（街道）工作人员和村干部可以查看社会帮扶"),
)
editors_only = roles_only(
    perms.OFFER_EDITORS,
    gettext_lazy("社会帮扶资源由区县和乡镇（街道）工作人员登记"),
)
planners_only = roles_only(perms.PLANNERS, gettext_lazy("您的角色不能进行社会帮扶对接"))


def _page(request: HttpRequest, rows, name: str = "page"):
    return Paginator(rows, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get(name))


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _offer_or_404(request: HttpRequest, pk: int) -> SocialOffer:
    try:
        return sel.offer_get(actor=request.user, pk=pk)
    except SocialOffer.DoesNotExist:
        raise Http404 from None


def _match_or_404(request: HttpRequest, pk: int) -> SocialMatch:
    try:
        return sel.match_get(actor=request.user, pk=pk)
    except SocialMatch.DoesNotExist:
        raise Http404 from None


def _with_labels(matches: list[SocialMatch], request: HttpRequest) -> list[SocialMatch]:
    for match in matches:
        match.distance_label = sel.distance_label(match.distance)
        match.can_decide = sel.can_decide_match(request.user, match)
    return matches


# --- offers ------------------------------------------------------------------------------


@viewers_only
@vary_on_headers("HX-Request")
def offer_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "state" not in data:
        data["state"] = LIVE
    filterset = OfferFilterSet(data, queryset=sel.offer_list(actor=request.user))
    page = _page(request, filterset.qs)
    today = timezone.localdate()
    offers = list(page.object_list)
    for offer in offers:
        offer.live = sel.offer_is_live(offer, today)
    partial = _partial(request)
    context = {
        "filter_form": filterset.form,
        "page": page,
        "offers": offers,
        "partial": partial,
        "can_register": perms.can_edit_offers(request.user),
        "pending_count": sel.match_pending(actor=request.user).count(),
    }
    template = (
        "assistance/social_offer_results.html" if partial else "assistance/social_offer_list.html"
    )
    return render(request, template, context)


@editors_only
def offer_create(request: HttpRequest) -> HttpResponse:
    form = OfferForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_save(actor=request.user, data=form.service_data())
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("已登记帮扶资源“%(title)s”，可生成对接建议。") % {"title": offer.title},
            )
            return redirect("social:offer_detail", pk=offer.pk)
    return render(request, "assistance/social_offer_form.html", {"form": form, "offer": None})


@editors_only
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    if not sel.can_edit_offer(request.user, offer):
        raise PermissionDenied(_("该帮扶资源不在您的管辖范围内"))
    form = OfferForm(request.POST or None, instance=offer, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_save(actor=request.user, offer=offer, data=form.service_data())
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("social:offer_detail", pk=offer.pk)
    return render(request, "assistance/social_offer_form.html", {"form": form, "offer": offer})


@viewers_only
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    today = timezone.localdate()
    live = offer.live = sel.offer_is_live(offer, today)
    filterset = MatchFilterSet(
        request.GET, queryset=sel.match_list(actor=request.user).filter(offer=offer)
    )
    page = _page(request, filterset.qs)
    context = {
        "offer": offer,
        "live": live,
        "expired": offer.status == OfferStatus.OPEN and not live,
        "page": page,
        "matches": _with_labels(list(page.object_list), request),
        "filter_form": filterset.form,
        "can_edit": sel.can_edit_offer(request.user, offer) and offer.status == OfferStatus.OPEN,
        "can_propose": live and perms.can_plan(request.user) and offer.remaining > 0,
        "proposals_full": offer.proposed_count >= offer.remaining * services.PROPOSALS_PER_PLACE,
        "per_place": services.PROPOSALS_PER_PLACE,
        "close_form": OfferCloseForm(),
        "groups": services.fitting_group_names(offer.kind),
        "next": request.get_full_path(),
    }
    return render(request, "assistance/social_offer_detail.html", context)


@require_POST
@planners_only
def offer_propose(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    try:
        matches = services.matches_propose(actor=request.user, offer=offer)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if matches:
            messages.success(
                request,
                _("已生成 %(n)d 条对接建议，请逐户确认或放弃。") % {"n": len(matches)},
            )
        else:
            messages.info(request, _("您的管辖范围内暂无需要此类帮扶的农户。"))
    return redirect("social:offer_detail", pk=offer.pk)


@require_POST
@editors_only
def offer_close(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    form = OfferCloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.offer_close(actor=request.user, offer=offer, note=note)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("帮扶资源已结束。"))
    return redirect("social:offer_detail", pk=offer.pk)


# --- matches -----------------------------------------------------------------------------


@viewers_only
@vary_on_headers("HX-Request")
def match_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = MatchStatus.PROPOSED
    filterset = MatchFilterSet(data, queryset=sel.match_list(actor=request.user))
    page = _page(request, filterset.qs)
    partial = _partial(request)
    context = {
        "filter_form": filterset.form,
        "page": page,
        "matches": _with_labels(list(page.object_list), request),
        "partial": partial,
        "pending_count": sel.match_pending(actor=request.user).count(),
        "next": request.get_full_path(),
    }
    template = (
        "assistance/social_match_results.html" if partial else "assistance/social_match_list.html"
    )
    return render(request, template, context)


def _next_url(request: HttpRequest, match: SocialMatch) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("social:offer_detail", args=[match.offer_id])


def _render_match(
    request: HttpRequest,
    match: SocialMatch,
    *,
    confirm_form: MatchConfirmForm | None = None,
    decline_form: MatchDeclineForm | None = None,
) -> HttpResponse:
    match.distance_label = sel.distance_label(match.distance)
    context = {
        "match": match,
        "can_decide": sel.can_decide_match(request.user, match),
        "confirm_form": confirm_form or MatchConfirmForm(),
        "decline_form": decline_form or MatchDeclineForm(),
        "next": _next_url(request, match),
    }
    return render(request, "assistance/social_match_detail.html", context)


@viewers_only
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_match(request, _match_or_404(request, pk))


@require_POST
@planners_only
def match_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_or_404(request, pk)
    form = MatchConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.match_confirm(
                actor=request.user,
                match=match,
                responsible_person=form.cleaned_data["responsible_person"],
                planned_end=form.cleaned_data["planned_end"],
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("已确认对接：%(household)s，措施已写入帮扶计划。")
                % {"household": match.household.head_name or match.household.household_number},
            )
            return redirect(_next_url(request, match))
    return _render_match(request, match, confirm_form=form)


@require_POST
@planners_only
def match_decline(request: HttpRequest, pk: int) -> HttpResponse:
    match = _match_or_404(request, pk)
    form = MatchDeclineForm(request.POST)
    if form.is_valid():
        try:
            services.match_decline(actor=request.user, match=match, note=form.cleaned_data["note"])
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("已放弃对接：%(household)s。")
                % {"household": match.household.head_name or match.household.household_number},
            )
            return redirect(_next_url(request, match))
    return _render_match(request, match, decline_form=form)
