"""Registry pages: the household list, a household's page, and the edit forms."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import can_edit_registry, can_reveal_personal_data
from shouwang.core.models import AuditEvent
from shouwang.core.views import denied_as_403
from shouwang.registry import selectors, services
from shouwang.registry.filters import HouseholdFilterSet
from shouwang.registry.forms import (
    HouseholdForm,
    IdNumberLookupForm,
    MemberForm,
    add_service_errors,
    household_filter_form,
)
from shouwang.registry.models import Household, Member

View = Callable[..., HttpResponse]


def _first_page_requested(number: Any) -> bool:
    """Whether Paginator.get_page would show page 1 whatever the count (a missing or
    non-numeric page, or 1)."""
    try:
        return int(number) == 1
    except (TypeError, ValueError):
        return True


class CountFromFirstPage(Paginator):
    """Counts a list whose first page holds every row from that page: a search that matches a
    handful of households then reads the area once instead of twice (the count, then the
    page). Any other page, and a first page with more rows after it, count as Django does."""

    def get_page(self, number: Any) -> Any:
        if (
            self.orphans
            or not self.allow_empty_first_page
            or "count" in self.__dict__
            or not _first_page_requested(number)
        ):
            return super().get_page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= self.per_page:
            self.count = len(rows)
        return self._get_page(rows[: self.per_page], 1, self)


def editor_required(view: View) -> View:
    """Only registry editors reach the view; others get the 403 page before any lookup."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit_registry(request.user):
            raise PermissionDenied(_("您的角色不能修改农户档案"))
        return view(request, *args, **kwargs)

    return denied_as_403(wrapper)


def _household_or_404(request: HttpRequest, pk: int) -> Household:
    try:
        return selectors.household_get(actor=request.user, pk=pk)
    except Household.DoesNotExist:
        raise Http404 from None


def _member_or_404(request: HttpRequest, pk: int) -> Member:
    try:
        return selectors.member_get(actor=request.user, pk=pk)
    except Member.DoesNotExist:
        raise Http404 from None


@login_required
@vary_on_headers("HX-Request")
def household_list(request: HttpRequest) -> HttpResponse:
    filterset = HouseholdFilterSet(
        request.GET, queryset=selectors.household_rows(actor=request.user)
    )
    filter_form = household_filter_form(filterset.form, actor=request.user)
    page = CountFromFirstPage(filterset.qs, settings.SHOUWANG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # A history restore after a cache miss needs the whole page, although htmx sent it.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {
        "filter_form": filter_form,
        "page": page,
        "can_edit": can_edit_registry(request.user),
        "partial": partial,
    }
    return render(
        request,
        "registry/_household_results.html" if partial else "registry/household_list.html",
        context,
    )


@require_POST
@login_required
def household_find(request: HttpRequest) -> HttpResponse:
    """Open the household of an ID number, POSTed so that the number is in no URL."""
    form = IdNumberLookupForm(request.POST)
    if form.is_valid():
        member = (
            selectors.members_with_id_number(
                actor=request.user, id_number=form.cleaned_data["id_number"]
            )
            .select_related("household")
            .first()
        )
        if member is not None:
            return redirect("registry:household_detail", pk=member.household_id)
        messages.error(request, _("您的管辖范围内没有登记该身份证号码的人员。"))
    else:
        messages.error(request, form.errors["id_number"][0])
    return redirect("registry:household_list")


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    today = timezone.localdate()
    members = list(selectors.household_members(household=household))
    for member in members:
        member.age = member.age_on(today)
    context = {
        "household": household,
        "sections": household_sections(household),
        "members": members,
        "history": history_entries(selectors.household_history(household=household)),
        "can_edit": can_edit_registry(request.user),
        "can_reveal": can_reveal_personal_data(request.user),
    }
    return render(request, "registry/household_detail.html", context)


@editor_required
def household_create(request: HttpRequest) -> HttpResponse:
    form = HouseholdForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(
                actor=request.user, data=form.service_data(), phone=form.cleaned_data["phone"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已新增农户 %(number)s，请继续添加家庭成员。")
                % {"number": household.household_number},
            )
            return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/household_form.html", {"form": form, "household": None})


@editor_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    form = HouseholdForm(request.POST or None, instance=household, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(
                actor=request.user,
                household=household,
                data=form.service_data(),
                phone=form.cleaned_data["phone"] or None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已保存农户 %(number)s 的修改。") % {"number": household.household_number},
            )
            return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/household_form.html", {"form": form, "household": household})


@editor_required
def household_delete(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    refusal = ""
    if request.method == "POST":
        try:
            services.household_delete(actor=request.user, household=household)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            refusal = exc.message  # the service says why (a case, a plan, reviews)
        else:
            messages.success(
                request, _("已删除农户 %(number)s。") % {"number": household.household_number}
            )
            return redirect("registry:household_list")
    return render(
        request,
        "registry/household_confirm_delete.html",
        {"household": household, "refusal": refusal},
        status=400 if refusal else 200,
    )


@editor_required
def member_create(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(
                actor=request.user,
                household=household,
                id_number=form.cleaned_data["id_number"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已添加家庭成员 %(name)s。") % {"name": member.name})
            return redirect("registry:household_detail", pk=household.pk)
    return render(
        request, "registry/member_form.html", {"form": form, "household": household, "member": None}
    )


@editor_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(
                actor=request.user,
                member=member,
                data=form.service_data(),
                id_number=form.cleaned_data["id_number"] or None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存家庭成员 %(name)s 的修改。") % {"name": member.name})
            return redirect("registry:household_detail", pk=member.household_id)
    context = {"form": form, "household": member.household, "member": member}
    return render(request, "registry/member_form.html", context)


@editor_required
def member_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    if request.method == "POST":
        services.member_delete(actor=request.user, member=member)
        messages.success(request, _("已删除家庭成员 %(name)s。") % {"name": member.name})
        return redirect("registry:household_detail", pk=member.household_id)
    return render(
        request,
        "registry/member_confirm_delete.html",
        {"member": member, "household": member.household},
    )


@require_POST
@denied_as_403
def member_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    value = services.member_reveal_id_number(actor=request.user, member=member)
    return render(request, "registry/_revealed.html", {"value": value})


@require_POST
@denied_as_403
def household_reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    value = services.household_reveal_phone(actor=request.user, household=household)
    return render(request, "registry/_revealed.html", {"value": value})


# Presentation helpers: turn stored values into the labels a reader expects.


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    """The field an audit snapshot key names (snapshots key foreign keys by ``<fk>_id``)."""
    if model is None:
        return None
    return next((f for f in model._meta.concrete_fields if name in (f.name, f.attname)), None)


def display_value(field: models.Field | None, value: Any) -> str:
    """A stored value as a reader sees it: choice labels, 是/否, empty as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, Decimal):
        return number_format(value, 2, force_grouping=True)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def household_sections(household: Household) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The household's fields in the groups of the page: (title, [(name, label, value)])."""

    def rows(*names: str) -> list[tuple[str, str, str]]:
        result = []
        for name in names:
            field = Household._meta.get_field(name)
            value = getattr(household, name)
            shown = str(value) if isinstance(value, models.Model) else display_value(field, value)
            result.append((name, str(field.verbose_name), shown))
        return result

    risks = "、".join(household.risk_type_labels()) or "—"
    return [
        (
            _("基本信息"),
            rows("household_number", "head_name", "member_count", "household_type")
            + [
                (
                    "township",
                    _("乡镇（街道）"),
                    household.village.parent.name if household.village.parent_id else "—",
                ),
                ("village", _("行政村（社区）"), household.village.name),
            ]
            + rows("phone_masked", "grid_member"),
        ),
        (
            _("监测信息"),
            rows(
                "monitoring_category",
                "monitoring_status",
                "identified_month",
                "eliminated_month",
                "elimination_method",
            )
            + [("risk_types", _("致贫/返贫风险"), risks)],
        ),
        (
            _("收入"),
            rows(
                "income_year",
                "wage_income",
                "operating_income",
                "property_income",
                "transfer_income",
                "productive_expenses",
                "per_capita_net_income",
                "compliant_out_of_pocket",
            ),
        ),
        (_("保障情况"), rows("housing_secure", "drinking_water_secure")),
        (_("搬迁"), rows("relocated", "relocation_site", "relocation_mode")),
    ]


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    target: str
    changes: list[tuple[str, str, str]]
    note: str


REVEALED_FIELD_LABELS = {"id_number": gettext_lazy("身份证号码"), "phone": gettext_lazy("联系电话")}


def history_entries(events: Iterable[AuditEvent]) -> list[HistoryEntry]:
    """Audit events with field names turned into verbose names and values into labels."""
    entries = []
    for event in events:
        try:
            model = apps.get_model(event.target_type)
        except (LookupError, ValueError):
            model = None
        kind = str(model._meta.verbose_name) if model is not None else event.target_type
        changes = []
        if event.action == AuditAction.UPDATE:
            for name, before, after in event.changed_fields():
                field = _field(model, name)
                label = str(field.verbose_name) if field is not None else name
                changes.append((label, display_value(field, before), display_value(field, after)))
        note = ""
        if event.action == AuditAction.REVEAL:
            field_name = event.extra.get("field", "")
            note = str(REVEALED_FIELD_LABELS.get(field_name, field_name))
        entries.append(
            HistoryEntry(
                event=event, target=f"{kind} {event.target_repr}", changes=changes, note=note
            )
        )
    return entries
