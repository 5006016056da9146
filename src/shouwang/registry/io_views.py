"""Pages for registry import (upload, job progress, errors), export and the import template."""

from __future__ import annotations

import csv
import functools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import can_edit_registry, can_reveal_personal_data
from shouwang.core.views import permission_denied
from shouwang.registry.io import (
    import_summary_text,
    registry_export,
    registry_import_submit,
    registry_template,
)
from shouwang.registry.io.readers import IMPORT_SUFFIXES
from shouwang.registry.io.selectors import import_job_get, import_job_list
from shouwang.registry.models import ImportJob, ImportJobStatus

View = Callable[..., HttpResponse]
#: Jobs listed under the upload form.
JOBS_SHOWN = 20
#: Bad rows shown on the job page; all of them are in the downloadable list.
ERRORS_SHOWN = 1000
RUNNING = (ImportJobStatus.PENDING, ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING)


def editors_only(view: View) -> View:
    """Login required; registry editors only; a service's PermissionDenied becomes the 403 page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if not can_edit_registry(request.user):
                raise PermissionDenied(_("您的角色不能导入或导出农户档案"))
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return permission_denied(request, exc)

    return wrapper


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(
            "监测对象信息表：.xlsx、.xls 或 .csv（UTF-8 或 GB18030 编码），一行一名成员"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(IMPORT_SUFFIXES))}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("仅校验"),
        required=False,
        help_text=gettext_lazy("只检查文件，不写入任何数据"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in IMPORT_SUFFIXES:
            raise forms.ValidationError(_("请上传 .xlsx、.xls 或 .csv 文件"))
        return upload


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=gettext_lazy("格式"),
        choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")],
        initial="xlsx",
    )
    full_id_numbers = forms.BooleanField(label=gettext_lazy("含完整证件号码"), required=False)


def _job_or_404(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return import_job_get(actor=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@editors_only
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = registry_import_submit(
                actor=request.user,
                file_name=upload.name,
                chunks=upload.chunks(),
                dry_run=form.cleaned_data["dry_run"],
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("registry_io:job", pk=job.pk)
    context = {
        "form": form,
        "export_form": ExportForm(),
        "can_reveal": can_reveal_personal_data(request.user),
        "jobs": import_job_list(actor=request.user)[:JOBS_SHOWN],
    }
    return render(request, "registry/import.html", context)


@editors_only
@vary_on_headers("HX-Request")
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; htmx polls it for the status partial while the job runs."""
    job = _job_or_404(request, pk)
    context = {
        "job": job,
        "running": job.status in RUNNING,
        "summary_text": import_summary_text(job.summary)
        if job.status == ImportJobStatus.SUCCEEDED
        else "",
        "errors": job.errors[:ERRORS_SHOWN],
        "errors_hidden": max(len(job.errors) - ERRORS_SHOWN, 0),
    }
    template = "registry/import_job_status.html" if request.htmx else "registry/import_job.html"
    return render(request, template, context)


@editors_only
@require_GET
def import_job_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """Every bad row of a job as a CSV the user can open in Excel next to their file."""
    job = _job_or_404(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''import-{job.pk}-errors.csv"
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("行"), _("列"), _("原因")])
    for error in job.errors:
        writer.writerow([error.get("row") or "", error.get("column", ""), error.get("message", "")])
    return response


def _file_response(build: Callable[[Path], object], file_name: str) -> FileResponse:
    """Build a file in a private temporary directory and stream it; the directory is removed
    once the file is open (POSIX keeps the open file readable)."""
    directory = Path(tempfile.mkdtemp(prefix="shouwang-"))
    try:
        path = directory / file_name
        build(path)
        handle = path.open("rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return FileResponse(handle, as_attachment=True, filename=file_name)


@editors_only
@require_GET
def template_download(request: HttpRequest) -> FileResponse:
    return _file_response(
        lambda path: registry_template(path=path), _("农户档案导入模板") + ".xlsx"
    )


@editors_only
@require_POST
def export_download(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        return redirect("registry_io:import")
    full = form.cleaned_data["full_id_numbers"]
    name = (
        _("农户档案")
        + f"-{timezone.localdate():%Y%m%d}"
        + ("" if full else "-" + _("脱敏"))
        + f".{form.cleaned_data['format']}"
    )
    return _file_response(
        lambda path: registry_export(actor=request.user, path=path, full_id_numbers=full), name
    )
