"""Assistance pages (精准帮扶): the plan measures and the overdue ones, one measure with its
delivery, a household's plan with the proposals of the rules, the measure catalogue and
the recommendation rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.vary import vary_on_headers

from shouwang.assistance import permissions as perms
from shouwang.assistance import selectors, services
from shouwang.assistance.choices import OPEN_MEASURE_STATUSES, HouseholdLabour, MeasureStatus
from shouwang.assistance.filters import PlanMeasureFilterSet
from shouwang.assistance.forms import (
    AddMeasureForm,
    BulkDeliveryForm,
    DeliveryForm,
    MeasureForm,
    MeasureGroupForm,
    PlanMeasureEditForm,
    ProposalForm,
    RuleForm,
    add_service_error,
    measure_filter_form,
    plan_measure_initial,
    proposal_initial,
)
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure, RecommendationRule
from shouwang.assistance.recommend import Proposal, household_labour
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import can_edit_registry
from shouwang.core.models import AuditEvent
from shouwang.core.views import roles_only
from shouwang.registry import selectors as registry_selectors
from shouwang.registry.choices import HealthStatus, LabourSkill, RiskType, SchoolStatus
from shouwang.registry.models import Household
from shouwang.registry.views import display_value

deliverers_only = roles_only(
    perms.DELIVERERS,
    gettext_lazy("只有村、乡镇（街道）、区县工作人员和行业部门工作人员可以查看帮扶措施"),
)
planners_only = roles_only(
    perms.PLANNERS, gettext_lazy("只有村、乡镇（街道）和区县工作人员可以制定帮扶计划")
)
catalogue_viewers_only = roles_only(
    perms.CATALOGUE_VIEWERS, gettext_lazy("您的角色不能查看帮扶措施目录和推荐规则")
)
catalogue_editors_only = roles_only(
    perms.CATALOGUE_EDITORS, gettext_lazy("只有区县管理员可以维护帮扶措施目录和推荐规则")
)


def _page(request: HttpRequest, rows: Any) -> Page:
    return Paginator(rows, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))


def _partial(request: HttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page, although htmx sent it.
    return bool(request.htmx) and not request.htmx.history_restore_request


# --- the measure lists -------------------------------------------------------------------


def _mark_overdue(rows: list[PlanMeasure], today: dt.date) -> None:
    for pm in rows:
        late = pm.status in OPEN_MEASURE_STATUSES and pm.planned_end < today
        pm.days_over = (today - pm.planned_end).days if late else 0


def _mark_bulk(rows: list[PlanMeasure], *, actor: Any, checked: set[int]) -> None:
    """What a list row needs for the bulk delivery: whether it can be ticked (still owed;
    every row of the list is the actor's to deliver), whether it was, and which registry
    flags its delivery would ask the actor to confirm on its own page."""
    confirms = can_edit_registry(actor)
    for pm in rows:
        pm.bulk_open = pm.status in OPEN_MEASURE_STATUSES
        pm.bulk_checked = pm.bulk_open and pm.pk in checked
        household = pm.plan.household
        pm.confirm_flags = (
            [
                services.flag_label(name)
                for name in services.delivery_flags(pm)
                if not getattr(household, name)
            ]
            if pm.bulk_open and confirms
            else []
        )


def _bulk_deliver(request: HttpRequest, form: BulkDeliveryForm) -> tuple[bool, list[dict]]:
    """Run the bulk delivery posted from a list page: (saved, refused rows)."""
    if not form.is_valid():
        return False, []
    try:
        saved = services.plan_measures_bulk_progress(
            actor=request.user,
            plan_measure_ids=form.selected_ids(),
            status=form.cleaned_data["status"],
            data=form.service_data(),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        rows = exc.extra.get("rows") or []
        form.add_error(
            None,
            _("以下 %(n)d 项措施不能登记，整批均未保存，请修改后再提交：") % {"n": len(rows)}
            if rows
            else exc.message,
        )
        return False, rows
    messages.success(
        request,
        _("已将 %(n)d 项措施登记为“%(status)s”。")
        % {"n": len(saved), "status": MeasureStatus(form.cleaned_data["status"]).label},
    )
    return True, []


def _measure_list(request: HttpRequest, *, overdue_page: bool) -> HttpResponse:
    today = timezone.localdate()
    actor = request.user
    bulk_form = BulkDeliveryForm(request.POST if request.method == "POST" else None, prefix="bulk")
    refused: list[dict] = []
    if request.method == "POST":
        saved, refused = _bulk_deliver(request, bulk_form)
        if saved:
            # Back to the same list, filters and page as they were.
            return redirect(request.get_full_path())
    rows = (
        selectors.overdue_measures(actor=actor, today=today)
        if overdue_page
        else selectors.plan_measure_list(actor=actor)
    )
    filterset = PlanMeasureFilterSet(request.GET, queryset=rows)
    filter_form = measure_filter_form(
        filterset.form,
        actor=actor,
        department_officer=perms.is_department_officer(actor),
        overdue_page=overdue_page,
    )
    page = _page(request, filterset.qs)
    _mark_overdue(page.object_list, today)
    _mark_bulk(page.object_list, actor=actor, checked=set(bulk_form.selected_ids()))
    partial = _partial(request)
    context = {
        "filter_form": filter_form,
        "page": page,
        "partial": partial,
        "overdue_page": overdue_page,
        "tab": "overdue" if overdue_page else "measures",
        "can_plan": perms.can_plan(actor),
        "department": actor.get_department_display() if perms.is_department_officer(actor) else "",
        "bulk_form": bulk_form,
        "bulk_refused": refused,
        "bulk_any": any(pm.bulk_open for pm in page.object_list),
    }
    template = "assistance/_measure_results.html" if partial else "assistance/measure_list.html"
    return render(request, template, context)


@deliverers_only
@vary_on_headers("HX-Request")
def index(request: HttpRequest) -> HttpResponse:
    return _measure_list(request, overdue_page=False)


@deliverers_only
@vary_on_headers("HX-Request")
def overdue(request: HttpRequest) -> HttpResponse:
    return _measure_list(request, overdue_page=True)


# --- one plan measure --------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    changes: list[tuple[str, str, str]]


#: Bookkeeping fields the history leaves out: who saved is the row's actor already.
HISTORY_SKIP = {"updated_by_id", "plan_id", "id"}


def measure_history(events: list[AuditEvent]) -> list[HistoryEntry]:
    fields = {f.attname: f for f in PlanMeasure._meta.concrete_fields}
    entries = []
    for event in events:
        changes = []
        if event.action == AuditAction.UPDATE:
            for name, before, after in event.changed_fields():
                field = fields.get(name)
                if name in HISTORY_SKIP or field is None:
                    continue
                changes.append(
                    (
                        str(field.verbose_name),
                        display_value(field, _decimal(field, before)),
                        display_value(field, _decimal(field, after)),
                    )
                )
        entries.append(HistoryEntry(event, changes))
    return entries


def _decimal(field: models.Field, value: Any) -> Any:
    """Snapshots keep decimals as text; as numbers they show with two decimals."""
    if isinstance(field, models.DecimalField) and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _plan_measure_or_404(request: HttpRequest, pk: int) -> PlanMeasure:
    try:
        return selectors.plan_measure_get(actor=request.user, pk=pk)
    except PlanMeasure.DoesNotExist:
        raise Http404 from None


@deliverers_only
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pm = _plan_measure_or_404(request, pk)
    actor = request.user
    is_open = pm.status in OPEN_MEASURE_STATUSES
    may_deliver = is_open and services.can_update_delivery(actor, pm)
    household = pm.plan.household
    asked = services.delivery_flags(pm) if may_deliver else ()
    # The registry's service writes the flags: only those who may edit the registry answer.
    flags = {name: getattr(household, name) for name in asked} if can_edit_registry(actor) else {}
    unanswered = [
        _("“%(flag)s”现为“%(value)s”")
        % {
            "flag": services.flag_label(name),
            "value": _("是") if getattr(household, name) else _("否"),
        }
        for name in asked
        if name not in flags
    ]
    may_edit = is_open and perms.can_plan(actor)
    delivery_form = edit_form = None
    posted = request.POST.get("form") if request.method == "POST" else None
    if posted and not is_open:
        # Usually someone else closed the measure meanwhile: the page shows it as it is now.
        messages.error(
            request,
            _("措施已%(status)s，不能再修改。") % {"status": pm.get_status_display()},
        )
        return redirect("assistance:measure_detail", pk=pm.pk)
    if posted == "delivery":
        if not services.can_update_delivery(actor, pm):
            raise PermissionDenied(_("您不能更新这项措施的落实情况"))
        delivery_form = DeliveryForm(
            request.POST, prefix="delivery", current=pm.status, flags=flags
        )
        if delivery_form.is_valid():
            try:
                services.plan_measure_progress(
                    actor=actor,
                    plan_measure=pm,
                    status=delivery_form.cleaned_data["status"],
                    data=delivery_form.progress_data(),
                    registry_flags=delivery_form.registry_flags(),
                )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                add_service_error(delivery_form, exc)
            else:
                pm.refresh_from_db(fields=["status"])
                messages.success(
                    request,
                    _("已更新“%(name)s”的落实情况：%(status)s。")
                    % {"name": pm.measure.name, "status": pm.get_status_display()},
                )
                changed = [
                    _("“%(flag)s”为“%(value)s”")
                    % {"flag": services.flag_label(name), "value": _("是") if value else _("否")}
                    for name, value in (delivery_form.registry_flags() or {}).items()
                    if value != flags[name]
                ]
                if changed:
                    messages.success(
                        request,
                        _("已同步更新农户档案：%(changes)s。") % {"changes": "，".join(changed)},
                    )
                return redirect("assistance:measure_detail", pk=pm.pk)
    elif posted == "edit":
        if not perms.can_plan(actor):
            raise PermissionDenied(_("只有村、乡镇（街道）和区县工作人员可以修改帮扶计划"))
        edit_form = PlanMeasureEditForm(request.POST, prefix="edit")
        if edit_form.is_valid():
            try:
                services.plan_measure_update(
                    actor=actor, plan_measure=pm, data=edit_form.service_data()
                )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                add_service_error(edit_form, exc)
            else:
                messages.success(request, _("已保存“%(name)s”的修改。") % {"name": pm.measure.name})
                return redirect("assistance:measure_detail", pk=pm.pk)
    if may_deliver and delivery_form is None:
        delivery_form = DeliveryForm(
            prefix="delivery",
            current=pm.status,
            flags=flags,
            initial={
                "status": pm.status,
                **plan_measure_initial(pm, services.PROGRESS_FIELDS),
            },
        )
    if may_edit and edit_form is None:
        edit_form = PlanMeasureEditForm(
            prefix="edit", initial=plan_measure_initial(pm, services.PLAN_MEASURE_FIELDS)
        )
    today = timezone.localdate()
    _mark_overdue([pm], today)
    context = {
        "pm": pm,
        "household": household,
        "delivery_form": delivery_form if may_deliver else None,
        "unanswered_flags": unanswered,
        "edit_form": edit_form if may_edit else None,
        "can_plan": perms.can_plan(actor),
        "history": measure_history(list(selectors.plan_measure_history(plan_measure=pm))),
        "tab": "measures",
    }
    return render(request, "assistance/measure_detail.html", context)


# --- a household's plan ------------------------------------------------------------------


@dataclass
class ProposalRow:
    proposal: Proposal
    token: str
    checked: bool
    form: ProposalForm


def _token(proposal: Proposal) -> str:
    """Names a proposal across the page and its post: its rule, measure and member."""
    member = proposal.member.pk if proposal.member is not None else 0
    return f"{proposal.rule.pk}-{proposal.measure.pk}-{member}"


def _proposal_rows(
    proposals: list[Proposal], today: dt.date, *, data: Any = None
) -> list[ProposalRow]:
    """One form per proposal. After a post the checked ones are bound (and checked), the
    others show what was typed in them without complaining about it."""
    chosen = set(data.getlist("accept")) if data is not None else set()
    rows = []
    for proposal in proposals:
        token = _token(proposal)
        prefix = f"p{token}"
        if token in chosen:
            form = ProposalForm(data, prefix=prefix)
        else:
            initial = proposal_initial(proposal.measure, today)
            if data is not None:
                typed = ProposalForm(prefix=prefix)
                for name in typed.fields:
                    key = typed.add_prefix(name)
                    if key in data:
                        initial[name] = data[key]
            form = ProposalForm(prefix=prefix, initial=initial)
        rows.append(ProposalRow(proposal, token, token in chosen, form))
    return rows


def _accepted_items(rows: list[ProposalRow]) -> list[dict[str, Any]] | None:
    """The checked proposals as plan_accept takes them; None while a checked row is invalid."""
    items = []
    valid = True
    for row in rows:
        if not row.checked:
            continue
        if not row.form.is_valid():
            valid = False
            continue
        items.append(
            {
                "measure": row.proposal.measure,
                "member": row.proposal.member,
                "rule": row.proposal.rule,
                "reason": row.proposal.reason,
                **{k: v for k, v in row.form.cleaned_data.items() if v not in (None, "")},
            }
        )
    return items if valid else None


def _household_or_404(request: HttpRequest, pk: int) -> Household:
    try:
        return registry_selectors.household_get(actor=request.user, pk=pk)
    except Household.DoesNotExist:
        raise Http404 from None


@planners_only
def household_plan(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _household_or_404(request, household_id)
    actor = request.user
    today = timezone.localdate()
    problem = services.plannable_problem(household)
    members = list(registry_selectors.household_members(household=household))
    for member in members:
        member.age = member.age_on(today)
    proposals = (
        selectors.household_proposals(household=household, today=today, members=members)
        if not problem
        else []
    )
    posted = request.POST.get("form") if request.method == "POST" else None
    data = request.POST if posted == "accept" else None
    rows = _proposal_rows(proposals, today, data=data)
    add_form = AddMeasureForm(
        request.POST if posted == "add" else None,
        prefix="add",
        measures=list(selectors.active_measures()),
        members=members,
    )
    accept_error = ""
    if posted == "accept":
        items = _accepted_items(rows)
        if items is None:
            accept_error = _("请按提示修改所选措施中标红的项目后再提交。")
        else:
            try:
                services.plan_accept(actor=actor, household=household, items=items, today=today)
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                accept_error = exc.message
            else:
                messages.success(
                    request, _("已接受 %(n)d 项帮扶措施，纳入帮扶计划。") % {"n": len(items)}
                )
                return redirect("assistance:household_plan", household_id=household.pk)
    elif posted == "add" and add_form.is_valid():
        try:
            services.plan_accept(
                actor=actor, household=household, items=[add_form.item()], today=today
            )
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(add_form, exc)
        else:
            messages.success(
                request,
                _("已添加措施“%(name)s”。") % {"name": add_form.cleaned_data["measure"].name},
            )
            return redirect("assistance:household_plan", household_id=household.pk)
    plan = selectors.household_plan(household=household)
    plan_measures = list(plan.measures.all()) if plan is not None else []
    _mark_overdue(plan_measures, today)
    context = {
        "household": household,
        "members": members,
        "labour": household_labour(members).label,
        "problem": problem,
        "plan": plan,
        "plan_measures": plan_measures,
        "delivered_count": sum(1 for pm in plan_measures if pm.status == MeasureStatus.DELIVERED),
        "rows": rows,
        "accept_error": accept_error,
        "add_form": add_form,
        "add_open": posted == "add",
        "tab": "measures",
    }
    return render(request, "assistance/household_plan.html", context)


# --- the catalogue -----------------------------------------------------------------------


@catalogue_viewers_only
def catalogue(request: HttpRequest) -> HttpResponse:
    groups = list(selectors.measure_groups())
    labels = dict(RiskType.choices)
    for group in groups:
        group.cover_labels = [str(labels.get(r, r)) for r in group.covers_risk_types]
    context = {
        "groups": groups,
        "can_edit": perms.can_edit_catalogue(request.user),
        "tab": "catalogue",
    }
    return render(request, "assistance/catalogue.html", context)


def _save_page(
    request: HttpRequest,
    *,
    form: Any,
    save: Any,
    template: str,
    done: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A create/edit page: validate, let the service save, keep the input on a refusal."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.service_data())
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, done % {"name": str(saved)})
            return redirect(context["cancel_url"])
    return render(request, template, {**context, "form": form})


def _group_or_404(pk: int) -> MeasureGroup:
    try:
        return selectors.measure_groups().get(pk=pk)
    except MeasureGroup.DoesNotExist:
        raise Http404 from None


def _measure_or_404(pk: int) -> Measure:
    try:
        return selectors.measure_list().get(pk=pk)
    except Measure.DoesNotExist:
        raise Http404 from None


@catalogue_editors_only
def group_create(request: HttpRequest) -> HttpResponse:
    form = MeasureGroupForm(request.POST or None)
    return _save_page(
        request,
        form=form,
        save=lambda data: services.measure_group_save(actor=request.user, data=data),
        template="assistance/catalogue_form.html",
        done=_("已新增措施类别“%(name)s”。"),
        context={"title": _("新增措施类别"), "cancel_url": _catalogue_url(), "tab": "catalogue"},
    )


@catalogue_editors_only
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(pk)
    form = MeasureGroupForm(request.POST or None, instance=group)
    return _save_page(
        request,
        form=form,
        save=lambda data: services.measure_group_save(actor=request.user, data=data, group=group),
        template="assistance/catalogue_form.html",
        done=_("已保存措施类别“%(name)s”。"),
        context={
            "title": _("编辑措施类别 %(name)s") % {"name": group.name},
            "cancel_url": _catalogue_url(),
            "tab": "catalogue",
        },
    )


def _catalogue_url() -> str:
    return reverse("assistance:catalogue")


@catalogue_editors_only
def measure_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    group_code = request.GET.get("group", "")
    if group_code:
        initial["group"] = MeasureGroup.objects.filter(code=group_code).first()
    form = MeasureForm(request.POST or None, initial=initial)
    return _save_page(
        request,
        form=form,
        save=lambda data: services.measure_save(actor=request.user, data=data),
        template="assistance/catalogue_form.html",
        done=_("已新增措施“%(name)s”。"),
        context={"title": _("新增帮扶措施"), "cancel_url": _catalogue_url(), "tab": "catalogue"},
    )


@catalogue_editors_only
def measure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    measure = _measure_or_404(pk)
    form = MeasureForm(request.POST or None, instance=measure)
    return _save_page(
        request,
        form=form,
        save=lambda data: services.measure_save(actor=request.user, data=data, measure=measure),
        template="assistance/catalogue_form.html",
        done=_("已保存措施“%(name)s”。"),
        context={
            "title": _("编辑帮扶措施 %(name)s") % {"name": measure.name},
            "cancel_url": _catalogue_url(),
            "tab": "catalogue",
        },
    )


# --- recommendation rules ----------------------------------------------------------------


def rule_conditions(rule: RecommendationRule) -> list[str]:
    """A rule's conditions in words, as the list shows them."""
    parts = []
    if rule.risk_types:
        labels = dict(RiskType.choices)
        parts.append(
            _("风险：%(v)s") % {"v": "、".join(str(labels.get(r, r)) for r in rule.risk_types)}
        )
    if rule.household_labour != HouseholdLabour.ANY:
        parts.append(str(rule.get_household_labour_display()))
    if rule.member_age_min is not None or rule.member_age_max is not None:
        low = rule.member_age_min if rule.member_age_min is not None else 0
        high = rule.member_age_max if rule.member_age_max is not None else "—"
        parts.append(_("成员年龄 %(low)s–%(high)s 岁") % {"low": low, "high": high})
    for values, choices, label in (
        (rule.member_health_statuses, HealthStatus, _("成员健康状况")),
        (rule.member_school_statuses, SchoolStatus, _("成员在校生状况")),
        (rule.member_labour_skills, LabourSkill, _("成员劳动技能")),
    ):
        if values:
            names = dict(choices.choices)
            parts.append(f"{label}：{'、'.join(str(names.get(v, v)) for v in values)}")
    if rule.per_member:
        parts.append(_("逐人推荐"))
    if rule.only_without_development:
        parts.append(_("仅在尚无开发式措施时"))
    return parts or [_("所有监测户")]


@catalogue_viewers_only
def rule_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.rule_list())
    for rule in page.object_list:
        rule.conditions = rule_conditions(rule)
    context = {"page": page, "can_edit": perms.can_edit_catalogue(request.user), "tab": "rules"}
    return render(request, "assistance/rule_list.html", context)


def _rule_or_404(pk: int) -> RecommendationRule:
    try:
        return selectors.rule_list().get(pk=pk)
    except RecommendationRule.DoesNotExist:
        raise Http404 from None


def _rules_url() -> str:
    return reverse("assistance:rule_list")


@catalogue_editors_only
def rule_create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, measures=list(selectors.active_measures()))
    return _save_page(
        request,
        form=form,
        save=lambda data: services.rule_save(actor=request.user, data=data),
        template="assistance/rule_form.html",
        done=_("已新增推荐规则“%(name)s”。"),
        context={"title": _("新增推荐规则"), "cancel_url": _rules_url(), "tab": "rules"},
    )


@catalogue_editors_only
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(pk)
    # Active measures, and the rule's own even if it has been switched off since.
    measures = list(
        selectors.measure_list().filter(models.Q(active=True) | models.Q(pk=rule.measure_id))
    )
    form = RuleForm(request.POST or None, instance=rule, measures=measures)
    return _save_page(
        request,
        form=form,
        save=lambda data: services.rule_save(actor=request.user, data=data, rule=rule),
        template="assistance/rule_form.html",
        done=_("已保存推荐规则“%(name)s”。"),
        context={
            "title": _("编辑推荐规则 %(name)s") % {"name": rule.name},
            "cancel_url": _rules_url(),
            "tab": "rules",
        },
    )


@catalogue_editors_only
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(pk)
    if request.method == "POST":
        name = rule.name
        services.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("已删除推荐规则“%(name)s”。") % {"name": name})
        return redirect("assistance:rule_list")
    return render(request, "assistance/rule_confirm_delete.html", {"rule": rule, "tab": "rules"})
