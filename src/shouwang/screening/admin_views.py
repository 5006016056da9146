"""Administration pages: feed sources and uploads, screening rules, policy parameters.

Who may do what: district staff and administrators see everything here and upload any
source; department officers see and upload their own department's sources and read the rules;
only district administrators change sources, rules and policy values.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import User
from shouwang.core.views import roles_only
from shouwang.policy.selectors import MissingPolicyValue
from shouwang.registry.choices import RiskType
from shouwang.screening import selectors, services
from shouwang.screening.admin_forms import (
    BLANK_CONDITION_ROWS,
    ConditionFormSet,
    FeedSourceForm,
    FeedUploadForm,
    RuleForm,
    choices_as_text,
    column_forms,
    condition_field_choices,
    initial_from_data,
    previous_month,
    rule_initial,
)
from shouwang.screening.choices import (
    AggregateFunction,
    BatchStatus,
    ColumnType,
    Comparison,
    Per,
    Severity,
)
from shouwang.screening.default_rules import ALL
from shouwang.screening.evidence import format_number
from shouwang.screening.feeds import selectors as feed_selectors
from shouwang.screening.feeds import services as feed_services
from shouwang.screening.feeds import source_services
from shouwang.screening.feeds.ingest import REJECT_REASONS
from shouwang.screening.filters import FeedBatchFilterSet
from shouwang.screening.models import FeedBatch, FeedSource, Rule
from shouwang.screening.permissions import (
    RULE_EDITORS,
    SCREENING_VIEWERS,
    can_edit_rules,
)
from shouwang.screening.rules import resolve_thresholds, rule_spec_parse, source_columns
from shouwang.screening.sources import ColumnsInvalid, ColumnSpec, parse_columns
from shouwang.screening.spec import MAX_CONDITIONS, SpecInvalid
from shouwang.screening.spec_text import (
    SourceInfo,
    spec_parts,
    spec_sentence,
    version_changes,
)

View = Callable[..., HttpResponse]

VERSIONS_PER_PAGE = 20


def _page(request: HttpRequest, items: Any, per_page: int | None = None) -> Any:
    return Paginator(items, per_page or settings.SHOUWANG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _file_response(build: Callable[[Path], object], file_name: str) -> FileResponse:
    """Build a file in a private temporary directory and stream it; the directory is removed
    once the file is open (POSIX keeps an open file readable)."""
    directory = Path(tempfile.mkdtemp(prefix="shouwang-"))
    try:
        path = directory / ("download" + Path(file_name).suffix)
        build(path)
        handle = path.open("rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return FileResponse(handle, as_attachment=True, filename=file_name)


# --- rules -------------------------------------------------------------------------------


def _source_infos() -> dict[str, SourceInfo]:
    """Every source with a usable column mapping: its name and columns, by slug."""
    columns = source_columns()
    names = dict(feed_selectors.feed_source_list(actor=None).values_list("slug", "name"))
    return {slug: SourceInfo(names.get(slug, slug), tuple(cols)) for slug, cols in columns.items()}


def _rule_or_404(slug: str) -> Rule:
    try:
        return selectors.rule_get(slug=slug)
    except Rule.DoesNotExist:
        raise Http404 from None


rule_viewers_only = roles_only(
    SCREENING_VIEWERS, gettext_lazy("只有区县工作人员和行业部门可以查看预警规则")
)
rule_editors_only = roles_only(RULE_EDITORS, gettext_lazy("只有区县管理员可以维护预警规则"))


@rule_viewers_only
@vary_on_headers("HX-Request")
def rule_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.rule_list())
    infos = _source_infos()
    for rule in page.object_list:
        feed = (rule.spec or {}).get("feed")
        rule.feed_name = (infos[feed].name if feed in infos else feed) if feed else ""
    context = {"page": page, "can_edit": can_edit_rules(request.user)}
    template = "screening/rule_results.html" if _is_partial(request) else "screening/rule_list.html"
    return render(request, template, context)


def _current_thresholds(spec: dict[str, Any]) -> tuple[str, str, str]:
    """The thresholds the rule compares with for the latest period: (period, registered,
    unregistered), or a message saying which policy value is missing."""
    period = services.default_period()
    try:
        thresholds = resolve_thresholds(rule_spec_parse(spec), period)
    except SpecInvalid as exc:
        return period, "；".join(exc.errors), ""
    except MissingPolicyValue as exc:
        return period, exc.message, ""
    return period, format_number(thresholds.registered), format_number(thresholds.unregistered)


@rule_viewers_only
def rule_detail(request: HttpRequest, slug: str) -> HttpResponse:
    rule = _rule_or_404(slug)
    infos = _source_infos()
    spec = rule.spec or {}
    source = infos.get(spec.get("feed") or "")
    versions = _page(request, selectors.rule_versions(rule=rule), VERSIONS_PER_PAGE)
    shown = list(versions.object_list)
    # The version before the page's oldest one, to show what that one changed.
    earlier = {
        v.version: v
        for v in selectors.rule_versions(rule=rule).filter(
            version__in=[v.version - 1 for v in shown]
        )
    }
    earlier.update({v.version: v for v in shown})
    history = []
    for version in shown:
        previous = earlier.get(version.version - 1)
        changes = (
            version_changes(_version_state(previous), _version_state(version), infos.get)
            if previous is not None
            else []
        )
        history.append((version, previous, changes))
    period, registered, unregistered = _current_thresholds(spec)
    context = {
        "rule": rule,
        "sentence": spec_sentence(spec, source),
        "parts": spec_parts(spec, source),
        "history": history,
        "versions": versions,
        "open_alerts": selectors.rule_list().get(pk=rule.pk).open_alerts,
        "threshold_period": period,
        "threshold_registered": registered,
        "threshold_unregistered": unregistered if spec.get("threshold_unregistered") else "",
        "can_edit": can_edit_rules(request.user),
    }
    return render(request, "screening/rule_detail.html", context)


def _version_state(version: Any) -> dict[str, Any]:
    return {
        "name": version.name,
        "description": version.description,
        "active": version.active,
        "spec": version.spec,
    }


def _form_sources() -> dict[str, tuple[str, Any]]:
    return {slug: (info.name, list(info.columns)) for slug, info in _source_infos().items()}


NEW_RULE_DEFAULTS = {
    "spec": {
        "feed": "medical",
        "aggregate": {"function": AggregateFunction.SUM, "field": "out_of_pocket"},
        "window_months": 12,
        "per": Per.HOUSEHOLD,
        "comparison": Comparison.GE,
        "threshold": {"value": ""},
        "population": ALL,
        "risk_type": RiskType.ILLNESS,
        "severity": Severity.MEDIUM,
    },
    "active": True,
}


def _condition_rows_from_data(data: Any) -> list[dict[str, Any]]:
    """Condition rows as submitted (for redrawing the form), blank ones dropped."""
    try:
        total = int(data.get("conditions-TOTAL_FORMS", 0))
    except ValueError:
        total = 0
    rows = []
    for index in range(min(total, MAX_CONDITIONS + BLANK_CONDITION_ROWS)):
        row = {
            name: data.get(f"conditions-{index}-{name}", "") for name in ("field", "op", "value")
        }
        if row["field"] or row["value"].strip():
            rows.append(row)
    return rows


def _unbound_forms(
    *,
    sources: dict[str, tuple[str, Any]],
    initial: dict[str, Any],
    rows: list[dict[str, Any]],
    creating: bool,
    extra_rows: int = BLANK_CONDITION_ROWS,
) -> tuple[RuleForm, Any]:
    """The rule form and its condition rows, filled but not checked (no errors shown)."""
    form = RuleForm(initial=initial, sources=sources, creating=creating)
    blank = max(0, min(extra_rows, MAX_CONDITIONS + BLANK_CONDITION_ROWS - len(rows)))
    formset = ConditionFormSet(
        initial=rows + [{} for _row in range(blank)],
        prefix="conditions",
        field_choices=condition_field_choices(form.columns),
    )
    return form, formset


def _redrawn_forms(
    request: HttpRequest, sources: dict[str, tuple[str, Any]], creating: bool, extra_rows: int
) -> tuple[RuleForm, Any]:
    """The submitted rule form drawn again as entered (another feed, a row added, a preview)."""
    probe = RuleForm(request.POST, sources=sources, creating=creating)
    return _unbound_forms(
        sources=sources,
        initial=initial_from_data(probe, request.POST),
        rows=_condition_rows_from_data(request.POST),
        creating=creating,
        extra_rows=extra_rows,
    )


def _rule_save(
    request: HttpRequest, rule: Rule | None, form: RuleForm, spec: dict[str, Any]
) -> Rule:
    """Create or update through the services; raises their ApplicationError."""
    data = form.cleaned_data
    if rule is None:
        saved = services.rule_create(
            actor=request.user,
            slug=data["slug"],
            name=data["name"],
            description=data["description"],
            spec=spec,
            active=data["active"],
        )
        messages.success(request, _("已新建规则“%(name)s”。") % {"name": saved.name})
        return saved
    version = rule.version
    saved = services.rule_update(
        actor=request.user,
        rule=rule,
        name=data["name"],
        description=data["description"],
        spec=spec,
        active=data["active"],
        note=data["note"],
    )
    if saved.version == version:
        messages.info(request, _("规则没有变化，未生成新版本。"))
    else:
        messages.success(request, _("已保存为第 %(version)d 版。") % {"version": saved.version})
    return saved


def _rule_preview(
    request: HttpRequest, rule: Rule | None, form: RuleForm, spec: dict[str, Any]
) -> tuple[services.RulePreview | None, list[str]]:
    """What the spec would raise now, or every reason it cannot be previewed."""
    if "preview_period" in form.errors:
        return None, list(form.errors["preview_period"])
    try:
        preview = services.rule_preview(
            actor=request.user,
            spec=spec,
            period=form.cleaned_data.get("preview_period") or None,
            rule=rule,
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return None, exc.extra.get("errors") or [exc.message]
    return preview, []


def _rule_form_page(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    """The new-rule and edit pages. ``action`` says what a POST asks for: ``save``,
    ``preview`` (count what the rule would raise now), ``refresh`` (another feed was chosen:
    redraw its fields) or ``add_condition``. htmx gets only the part it swaps."""
    creating = rule is None
    sources = _form_sources()
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    preview: services.RulePreview | None = None
    preview_errors: list[str] = []
    errors: list[str] = []
    if request.method != "POST":
        base = NEW_RULE_DEFAULTS if rule is None else _version_state(rule)
        feed_columns = sources.get(base["spec"].get("feed") or "", ("", None))[1]
        initial, rows = rule_initial(base, feed_columns)
        form, formset = _unbound_forms(
            sources=sources, initial=initial, rows=rows, creating=creating
        )
    elif action in ("refresh", "add_condition"):
        extra = BLANK_CONDITION_ROWS + (1 if action == "add_condition" else 0)
        form, formset = _redrawn_forms(request, sources, creating, extra)
        if _is_partial(request):
            context = {"form": form, "formset": formset, "rule": rule}
            return render(request, "screening/rule_form_feed.html", context)
    else:
        form = RuleForm(request.POST, sources=sources, creating=creating)
        form_valid = form.is_valid()
        formset = ConditionFormSet(
            request.POST, prefix="conditions", field_choices=condition_field_choices(form.columns)
        )
        formset.is_valid()
        spec = form.spec(formset.conditions())
        if action == "preview":
            preview, preview_errors = _rule_preview(request, rule, form, spec)
            if _is_partial(request):
                context = _preview_context(preview, preview_errors)
                return render(request, "screening/rule_preview.html", context)
            # Previewing is not saving: the form comes back as entered, without its errors.
            form, formset = _redrawn_forms(request, sources, creating, BLANK_CONDITION_ROWS)
        elif not form_valid:
            # The form's own problems show at their fields; the rule's all together above.
            try:
                rule_spec_parse(spec)
            except SpecInvalid as exc:
                errors = exc.errors
        else:
            try:
                saved = _rule_save(request, rule, form, spec)
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                errors = exc.extra.get("errors") or [exc.message]
            else:
                return redirect("screening:rule_detail", slug=saved.slug)
    context = {
        "rule": rule,
        "form": form,
        "formset": formset,
        "errors": errors,
        **_preview_context(preview, preview_errors),
    }
    return render(request, "screening/rule_form.html", context)


def _preview_context(preview: services.RulePreview | None, errors: list[str]) -> dict[str, Any]:
    figures = {}
    if preview is not None:
        figures = {
            "registered_threshold": format_number(preview.thresholds[0]),
            "unregistered_threshold": format_number(preview.thresholds[1]),
        }
    return {"preview": preview, "preview_errors": errors, "preview_figures": figures}


@rule_editors_only
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, None)


@rule_editors_only
def rule_edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _rule_form_page(request, _rule_or_404(slug))


# --- feed sources and uploads ------------------------------------------------------------

#: District staff and administrators work with every source; a department officer with the
#: department's own (the feed selectors and services enforce which).
BATCH_RUNNING = (BatchStatus.QUEUED, BatchStatus.RUNNING)
RECENT_BATCHES = 10
#: Rejected rows listed on a batch's page; all of them are in the rejects file.
REJECTS_SHOWN = 100

feed_users_only = roles_only(
    SCREENING_VIEWERS, gettext_lazy("只有区县工作人员和行业部门工作人员可以查看部门数据")
)
feed_editors_only = roles_only(
    source_services.SOURCE_EDITORS, gettext_lazy("只有区县管理员可以修改数据源")
)


def _source_or_404(request: HttpRequest, slug: str) -> FeedSource:
    try:
        return feed_selectors.feed_source_get(actor=request.user, slug=slug)
    except FeedSource.DoesNotExist:
        raise Http404 from None


def _batch_or_404(request: HttpRequest, pk: int) -> FeedBatch:
    try:
        return feed_selectors.feed_batch_get(actor=request.user, pk=pk)
    except FeedBatch.DoesNotExist:
        raise Http404 from None


def _columns_of(source: FeedSource) -> list[ColumnSpec]:
    """The source's columns; a stored mapping that no longer validates is read as it stands."""
    try:
        return parse_columns(source.columns)
    except ColumnsInvalid:
        columns = []
        for item in source.columns if isinstance(source.columns, list) else []:
            if isinstance(item, dict):
                columns.append(
                    ColumnSpec(
                        field=str(item.get("field", "")),
                        header=str(item.get("header", "")),
                        type=str(item.get("type", "")),
                        required=bool(item.get("required")),
                        aliases=tuple(str(a) for a in item.get("aliases") or ()),
                        choices=dict(item.get("choices") or {}),
                    )
                )
        return columns


@feed_users_only
def feed_list(request: HttpRequest) -> HttpResponse:
    sources = list(feed_selectors.feed_source_list(actor=request.user))
    latest = feed_selectors.feed_batch_latest(actor=request.user)
    for source in sources:
        source.latest_batch = latest.get(source.pk)
    context = {
        "sources": sources,
        "can_upload": any(feed_services.can_import_feed(request.user, s) for s in sources),
    }
    return render(request, "screening/feed_list.html", context)


@feed_users_only
def feed_detail(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source_or_404(request, slug)
    columns = _columns_of(source)
    type_labels = dict(ColumnType.choices)
    rows = [
        {
            "column": column,
            "type_label": type_labels.get(column.type, column.type),
            "choices": choices_as_text(column).splitlines(),
        }
        for column in columns
    ]
    batches = feed_selectors.feed_batch_list(actor=request.user).filter(source=source)
    context = {
        "source": source,
        "columns": rows,
        "batches": list(batches[:RECENT_BATCHES]),
        "more_batches": batches.count() > RECENT_BATCHES,
        "can_edit": source_services.can_edit_feed_source(request.user),
        "can_upload": source.active and feed_services.can_import_feed(request.user, source),
    }
    return render(request, "screening/feed_detail.html", context)


@feed_users_only
@require_GET
def feed_template(request: HttpRequest, slug: str, suffix: str) -> HttpResponse:
    source = _source_or_404(request, slug)
    file_name = _("%(name)s导入模板") % {"name": source.name} + f".{suffix}"
    try:
        return _file_response(
            lambda path: feed_services.feed_template_write(source=source, path=path), file_name
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("screening:feed_detail", slug=source.slug)


@feed_editors_only
def feed_edit(request: HttpRequest, slug: str) -> HttpResponse:
    source = _source_or_404(request, slug)
    columns = _columns_of(source)
    errors: list[str] = []
    if request.method == "POST":
        form = FeedSourceForm(request.POST)
        column_rows = column_forms(columns, request.POST)
        valid = form.is_valid() & all([row.is_valid() for row in column_rows])
        if valid:
            try:
                source_services.feed_source_update(
                    actor=request.user,
                    source=source,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    columns=[row.column_dict() for row in column_rows],
                    active=form.cleaned_data["active"],
                )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                errors = exc.extra.get("errors") or [exc.message]
            else:
                messages.success(request, _("已保存数据源“%(name)s”。") % {"name": source.name})
                return redirect("screening:feed_detail", slug=source.slug)
    else:
        form = FeedSourceForm(
            initial={
                "name": source.name,
                "description": source.description,
                "active": source.active,
            }
        )
        column_rows = column_forms(columns)
    type_labels = dict(ColumnType.choices)
    context = {
        "source": source,
        "form": form,
        "column_rows": [
            (row, type_labels.get(row.column.type, row.column.type)) for row in column_rows
        ],
        "errors": errors,
        "has_errors": bool(errors) or any(row.errors for row in column_rows),
    }
    return render(request, "screening/feed_edit.html", context)


def _upload_sources(user: User) -> Any:
    sources = feed_selectors.feed_source_list(actor=user, active=True)
    allowed = [s.pk for s in sources if feed_services.can_import_feed(user, s)]
    return sources.filter(pk__in=allowed)


@feed_users_only
def feed_upload(request: HttpRequest) -> HttpResponse:
    sources = _upload_sources(request.user)
    if request.method == "POST":
        form = FeedUploadForm(request.POST, request.FILES, sources=sources)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = feed_services.feed_batch_submit(
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    file_name=upload.name,
                    chunks=upload.chunks(),
                    period=form.cleaned_data["period"],
                )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request,
                    _("已上传“%(file)s”。") % {"file": batch.file_name},
                )
                return redirect("screening:batch_detail", pk=batch.pk)
    else:
        requested = request.GET.get("source", "")
        form = FeedUploadForm(
            initial={
                "source": requested if sources.filter(slug=requested).exists() else None,
                "period": previous_month(),
            },
            sources=sources,
        )
    context = {
        "form": form,
        "batches": list(feed_selectors.feed_batch_list(actor=request.user)[:RECENT_BATCHES]),
        "no_sources": not sources.exists(),
    }
    return render(request, "screening/feed_upload.html", context)


def _batch_filter(request: HttpRequest) -> FeedBatchFilterSet:
    filterset = FeedBatchFilterSet(
        request.GET, queryset=feed_selectors.feed_batch_list(actor=request.user)
    )
    form = filterset.form
    form.fields["source"].queryset = feed_selectors.feed_source_list(actor=request.user)
    form.fields["source"].empty_label = _("全部数据源")
    form.fields["status"].widget.choices = [("", _("全部状态")), *BatchStatus.choices]
    if request.user.role == Role.DEPARTMENT_OFFICER and not request.user.is_superuser:
        del form.fields["department"]
    else:
        form.fields["department"].widget.choices = [
            ("", _("全部部门")),
            *[c for c in form.fields["department"].choices if c[0]],
        ]
    form.fields["period"].widget.attrs.update({"placeholder": "2026-10", "inputmode": "numeric"})
    return filterset


@feed_users_only
@vary_on_headers("HX-Request")
def batch_list(request: HttpRequest) -> HttpResponse:
    filterset = _batch_filter(request)
    page = _page(request, filterset.qs)
    context = {
        "filter_form": filterset.form,
        "page": page,
        "polling": any(b.status in BATCH_RUNNING for b in page.object_list),
    }
    template = (
        "screening/batch_results.html" if _is_partial(request) else "screening/batch_list.html"
    )
    return render(request, template, context)


@feed_users_only
@vary_on_headers("HX-Request")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's page; htmx polls it for the status part while the batch is queued or running."""
    batch = _batch_or_404(request, pk)
    running = batch.status in BATCH_RUNNING
    reasons = [
        (str(REJECT_REASONS.get(kind, kind)), count)
        for kind, count in sorted((batch.error_counts or {}).items(), key=lambda item: -item[1])
    ]
    same_file = (
        feed_selectors.feed_batch_list(actor=request.user)
        .filter(file_sha256=batch.file_sha256)
        .exclude(pk=batch.pk)
    )
    errors = batch.errors or []
    context = {
        "batch": batch,
        "running": running,
        "reasons": reasons,
        "errors": errors[:REJECTS_SHOWN],
        "errors_hidden": max(batch.rows_rejected - min(len(errors), REJECTS_SHOWN), 0),
        "rejects_available": bool(batch.rejects_path) and Path(batch.rejects_path).exists(),
        "same_file": list(same_file[:5]),
        "can_delete": not running and feed_services.can_import_feed(request.user, batch.source),
    }
    template = (
        "screening/batch_status.html" if _is_partial(request) else "screening/batch_detail.html"
    )
    return render(request, template, context)


@feed_users_only
@require_GET
def batch_rejects(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's rejected rows (row, column, reason, masked ID) as the importer wrote them."""
    batch = _batch_or_404(request, pk)
    path = Path(batch.rejects_path) if batch.rejects_path else None
    if path is None or not path.exists():
        raise Http404
    name = _("%(source)s-%(period)s-拒收明细-批次%(id)d.csv") % {
        "source": batch.source.name,
        "period": batch.period,
        "id": batch.pk,
    }
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


@feed_users_only
def batch_delete(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    if request.method == "POST":
        try:
            feed_services.feed_batch_delete(actor=request.user, batch=batch)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("screening:batch_detail", pk=batch.pk)
        messages.success(request, _("已删除批次 #%(id)d。") % {"id": pk})
        return redirect("screening:batch_list")
    if not feed_services.can_import_feed(request.user, batch.source):
        raise PermissionDenied(_("您不能删除该数据源的导入批次"))
    return render(request, "screening/batch_confirm_delete.html", {"batch": batch})
