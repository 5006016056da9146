"""Pages of the routine work: the monthly village meeting (list, missing villages, the form
with the generated agenda), the quarterly review (per quarter, missing households, the form)
and the yearly campaign (list, opening, progress per village, the household check)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.cases import routine_selectors as sel
from shouwang.cases import routine_services as services
from shouwang.cases.models import Campaign, VillageMeeting
from shouwang.cases.routine_choices import APPLIED_CHANGE_LABELS
from shouwang.cases.routine_forms import (
    CampaignForm,
    CheckForm,
    MeetingForm,
    NewMemberFormSet,
    ReviewForm,
    add_service_error,
    parse_month,
    recent_quarters,
)
from shouwang.cases.selectors import latest_meeting_attendees
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import Division
from shouwang.core.months import month_label
from shouwang.core.views import roles_only
from shouwang.registry.models import Household

viewers_only = roles_only(
    sel.ROUTINE_VIEWERS, gettext_lazy("只有区县、乡镇（街道）和村（社区）工作人员可以查看例会研判")
)
recorders_only = roles_only(
    sel.ROUTINE_RECORDERS, gettext_lazy("月工作会议、季度研判和排查记录由村（社区）干部登记")
)
openers_only = roles_only(
    sel.CAMPAIGN_OPENERS, gettext_lazy("集中排查由区县管理员或区县工作人员发起")
)


def _today() -> dt.date:
    return timezone.localdate()


def _page(request: HttpRequest, rows, name: str = "page"):
    return Paginator(rows, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get(name))


# --- monthly meeting ---------------------------------------------------------------------


@viewers_only
def meeting_list(request: HttpRequest) -> HttpResponse:
    today = _today()
    month = parse_month(request.GET.get("month")) or sel.month_of(today)
    outstanding = sel.meeting_outstanding(actor=request.user, month=month, today=today)
    meetings = list(sel.meeting_list(actor=request.user, month=month))
    context = {
        "month": month,
        "month_input": f"{month[:4]}-{month[4:]}",
        "month_label": month_label(month),
        "previous_month": sel.month_shift(month, -1),
        "next_month": sel.month_shift(month, 1) if month < sel.month_of(today) else "",
        "meetings": meetings,
        "outstanding": outstanding,
        "overdue_count": sum(1 for r in outstanding if r.overdue),
        "can_record": sel.can_record_routines(request.user),
        "due_day": sel.MeetingDays().day_for(outstanding[0].village.code) if outstanding else None,
    }
    return render(request, "cases/meeting_list.html", context)


def _village_or_404(request: HttpRequest, code: str) -> Division:
    try:
        return sel.village_get(actor=request.user, code=code)
    except Division.DoesNotExist:
        raise Http404 from None


def _default_held_on(month: str, today: dt.date) -> dt.date:
    last = sel.month_last_day(month)
    return today if sel.month_first_day(month) <= today <= last else min(last, today)


@recorders_only
def meeting_create(request: HttpRequest) -> HttpResponse:
    # Village and month travel in the query string, on GET and on POST alike.
    village = _village_or_404(request, request.GET.get("village", ""))
    today = _today()
    month = parse_month(request.GET.get("month")) or sel.month_of(today)
    existing = VillageMeeting.objects.filter(village=village, month=month).first()
    if existing is not None:
        messages.info(request, _("该村本月的工作会议已登记。"))
        return redirect("routines:meeting_detail", pk=existing.pk)
    held_on = _default_held_on(month, today)
    if request.method == "POST":
        held_on = _posted_date(request.POST.get("held_on")) or held_on
    agenda = sel.meeting_agenda(village=village, month=month, held_on=held_on)
    form = MeetingForm(
        request.POST or None,
        agenda=agenda,
        # Mostly the same people as last time: the cadre corrects the list, not retypes it.
        initial={
            "held_on": held_on,
            "attendees": latest_meeting_attendees(village=village, before=today),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(
                actor=request.user,
                village=village,
                month=month,
                held_on=form.cleaned_data["held_on"],
                attendees=form.cleaned_data["attendees"],
                summary=form.cleaned_data["summary"],
                decisions=form.decisions(),
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc, MeetingForm.renames())
        else:
            messages.success(
                request, _("已登记%(month)s工作会议。") % {"month": month_label(month)}
            )
            return redirect("routines:meeting_detail", pk=meeting.pk)
    context = {
        "form": form,
        "village": village,
        "month": month,
        "month_label": month_label(month),
        "due_on": sel.meeting_due_on(month, village.code),
        "quiet": sel.agenda_is_quiet(agenda),
        "editing": None,
    }
    return render(request, "cases/meeting_form.html", context)


def _posted_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


def _meeting_or_404(request: HttpRequest, pk: int) -> VillageMeeting:
    try:
        return sel.meeting_get(actor=request.user, pk=pk)
    except VillageMeeting.DoesNotExist:
        raise Http404 from None


@viewers_only
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    due_on = sel.meeting_due_on(meeting.month, meeting.village_id)
    context = {
        "meeting": meeting,
        "items": list(meeting.items.all()),
        "month_label": month_label(meeting.month),
        "due_on": due_on,
        "late": meeting.held_on > due_on,
        "can_edit": sel.can_record_routines(request.user),
    }
    return render(request, "cases/meeting_detail.html", context)


@recorders_only
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(request, pk)
    items = list(meeting.items.all())
    agenda = [sel.AgendaEntry(i.kind, i.count, i.details) for i in items]
    initial = {
        "held_on": meeting.held_on,
        "attendees": meeting.attendees,
        "summary": meeting.summary,
        **{f"decision_{i.kind}": i.decision for i in items},
    }
    form = MeetingForm(request.POST or None, agenda=agenda, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(
                actor=request.user,
                meeting=meeting,
                held_on=form.cleaned_data["held_on"],
                attendees=form.cleaned_data["attendees"],
                summary=form.cleaned_data["summary"],
                decisions=form.decisions(),
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc, MeetingForm.renames())
        else:
            messages.success(request, _("已保存修改。"))
            return redirect("routines:meeting_detail", pk=meeting.pk)
    context = {
        "form": form,
        "village": meeting.village,
        "month": meeting.month,
        "month_label": month_label(meeting.month),
        "due_on": sel.meeting_due_on(meeting.month, meeting.village_id),
        "quiet": sel.agenda_is_quiet(agenda),
        "editing": meeting,
    }
    return render(request, "cases/meeting_form.html", context)


# --- quarterly review --------------------------------------------------------------------


@viewers_only
def review_list(request: HttpRequest) -> HttpResponse:
    today = _today()
    quarter = request.GET.get("quarter", "")
    if not sel.is_quarter(quarter):
        quarter = sel.quarter_of(today)
    show = request.GET.get("show") if request.GET.get("show") in ("missing", "done") else "missing"
    due = sel.review_due(actor=request.user, quarter=quarter)
    missing_count = due.filter(reviewed=False).count()
    done_count = due.filter(reviewed=True).count()
    rows = (
        sel.review_missing(actor=request.user, quarter=quarter)
        if show == "missing"
        else sel.review_list(actor=request.user, quarter=quarter)
    )
    context = {
        "quarter": quarter,
        "quarter_label": sel.quarter_label(quarter),
        "quarters": recent_quarters(today),
        "show": show,
        "page": _page(request, rows),
        "missing_count": missing_count,
        "done_count": done_count,
        "current": quarter == sel.quarter_of(today),
        "can_record": sel.can_record_routines(request.user),
    }
    return render(request, "cases/review_list.html", context)


@recorders_only
def review_create(request: HttpRequest, household_pk: int) -> HttpResponse:
    try:
        household = sel.review_household_get(actor=request.user, pk=household_pk)
    except Household.DoesNotExist:
        raise Http404 from None
    today = _today()
    form = ReviewForm(
        request.POST or None,
        initial={"reviewed_on": today, "reviewers": request.user.display_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_record(
                actor=request.user, household=household, **form.service_input()
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc, ReviewForm.RENAMES)
        else:
            messages.success(
                request,
                _("已登记 %(household)s %(quarter)s研判。")
                % {"household": household, "quarter": sel.quarter_label(review.quarter)},
            )
            return redirect(f"{_url('routines:review_list')}?quarter={review.quarter}")
    context = {
        "form": form,
        "household": household,
        "quarter_label": sel.quarter_label(sel.quarter_of(today)),
        "previous": sel.household_reviews(household=household),
    }
    return render(request, "cases/review_form.html", context)


def _url(name: str, *args: object) -> str:
    return reverse(name, args=args)


# --- yearly campaign ---------------------------------------------------------------------


@viewers_only
def campaign_list(request: HttpRequest) -> HttpResponse:
    today = _today()
    campaigns = list(sel.campaign_list(actor=request.user))
    for campaign in campaigns:
        campaign.running = campaign.starts_on <= today <= campaign.ends_on
    context = {"campaigns": campaigns, "can_open": sel.can_open_campaigns(request.user)}
    return render(request, "cases/campaign_list.html", context)


@openers_only
def campaign_create(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = CampaignForm(
        request.POST or None,
        scopes=sel.campaign_scopes(actor=request.user),
        initial={
            "name": _("%(year)s年防止返贫监测对象集中排查") % {"year": today.year},
            "starts_on": today,
            "ends_on": today + dt.timedelta(days=30),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_open(actor=request.user, **form.cleaned_data)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc, {})
        else:
            messages.success(request, _("已发起“%(name)s”。") % {"name": campaign.name})
            return redirect("routines:campaign_detail", pk=campaign.pk)
    return render(request, "cases/campaign_form.html", {"form": form})


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    try:
        return sel.campaign_get(actor=request.user, pk=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


@viewers_only
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    today = _today()
    progress = sel.campaign_progress(actor=request.user, campaign=campaign)
    village_code = request.GET.get("village", "")
    if not village_code and len(progress.villages) == 1:
        village_code = progress.villages[0].village.code
    village = next((r.village for r in progress.villages if r.village.code == village_code), None)
    households = None
    checks: dict[int, object] = {}
    if village is not None:
        households = _page(
            request,
            sel.campaign_village_households(
                actor=request.user, campaign=campaign, village_code=village.code
            ),
        )
        checks = {
            c.household_id: c
            for c in sel.campaign_check_list(actor=request.user, campaign=campaign).filter(
                household_id__in=[h.pk for h in households.object_list]
            )
        }
        for household in households.object_list:
            household.check = checks.get(household.pk)
            household.change_texts = [
                _("%(name)s（%(change)s）")
                % {"name": c["name"], "change": APPLIED_CHANGE_LABELS.get(c["change"], c["change"])}
                for c in (household.check.changes if household.check else [])
            ]
    context = {
        "campaign": campaign,
        "running": campaign.starts_on <= today <= campaign.ends_on,
        "progress": progress,
        "village": village,
        "households": households,
        "can_record": sel.can_record_routines(request.user),
    }
    return render(request, "cases/campaign_detail.html", context)


@recorders_only
def campaign_check(request: HttpRequest, pk: int, household_pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        household = sel.campaign_household_get(
            actor=request.user, campaign=campaign, pk=household_pk
        )
    except Household.DoesNotExist:
        raise Http404 from None
    existing = (
        sel.campaign_check_list(actor=request.user, campaign=campaign)
        .filter(household=household)
        .first()
    )
    members = list(household.members.order_by("id"))
    today = _today()
    form = CheckForm(
        request.POST or None,
        members=members,
        initial={
            "checked_on": min(max(today, campaign.starts_on), campaign.ends_on),
            "checker": request.user.display_name,
            "result": "no_change",
        },
    )
    additions = NewMemberFormSet(request.POST or None, prefix="new")
    if existing is None and request.method == "POST" and form.is_valid() and additions.is_valid():
        try:
            services.campaign_check_record(
                actor=request.user,
                campaign=campaign,
                household=household,
                checked_on=form.cleaned_data["checked_on"],
                checker=form.cleaned_data["checker"],
                result=form.cleaned_data["result"],
                note=form.cleaned_data["note"],
                removals=form.removals(),
                additions=[a for a in (f.addition() for f in additions) if a is not None],
                new_head_id=form.new_head_id(),
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc, {})
        else:
            messages.success(
                request, _("已登记 %(household)s 的排查结果。") % {"household": household}
            )
            return redirect(
                f"{_url('routines:campaign_detail', campaign.pk)}?village={household.village_id}"
            )
    context = {
        "campaign": campaign,
        "household": household,
        "existing": existing,
        "form": form,
        "additions": additions,
    }
    return render(request, "cases/campaign_check.html", context)
