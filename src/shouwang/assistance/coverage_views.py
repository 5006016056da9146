"""Pages of the coverage and consistency report (帮扶覆盖与一致性): the per-area table, the
problem lists and the Excel export."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from shouwang.assistance import coverage
from shouwang.assistance import permissions as perms
from shouwang.core.choices import DivisionLevel
from shouwang.core.models import Division
from shouwang.core.views import roles_only

viewers_only = roles_only(perms.PLANNERS, gettext_lazy("您的角色不能查看帮扶覆盖情况"))
TRUE_VALUES = {"1", "on", "true", "yes"}


def _unresolved_only(data: QueryDict) -> bool:
    return data.get("unresolved", "").strip().lower() in TRUE_VALUES


def _township(request: HttpRequest, data: QueryDict) -> Division | None:
    """The township drilled into (``?township=``); one outside the area is a 404."""
    code = data.get("township", "").strip()
    if not code:
        return None
    try:
        return coverage.coverage_township(actor=request.user, code=code)
    except Division.DoesNotExist:
        raise Http404 from None


@viewers_only
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    township = _township(request, request.GET)
    unresolved_only = _unresolved_only(request.GET)
    report = coverage.coverage_report(
        actor=request.user, township=township, unresolved_only=unresolved_only
    )
    context = {
        "report": report,
        "township": township,
        "unresolved_only": unresolved_only,
        "drill_down": report.level == DivisionLevel.TOWNSHIP,
        "problems": [
            (key, coverage.Problem.LABELS[key], count)
            for key, count in (
                (coverage.Problem.UNCOVERED, report.total.uncovered),
                (coverage.Problem.BACKSTOP_ONLY, report.total.backstop_only),
                (coverage.Problem.UNSTABLE_WITHOUT_LABOUR, report.total.unstable_without_labour),
                (coverage.Problem.WITHOUT_PLAN, report.total.without_plan),
            )
        ],
    }
    return render(request, "assistance/coverage_overview.html", context)


@viewers_only
@require_GET
def problems(request: HttpRequest, problem: str) -> HttpResponse:
    if problem not in coverage.Problem.FLAGS:
        raise Http404
    area = None
    code = request.GET.get("area", "").strip()
    if code:
        try:
            area = coverage.coverage_area(actor=request.user, code=code)
        except Division.DoesNotExist:
            raise Http404 from None
    unresolved_only = _unresolved_only(request.GET)
    page, problem_rows = coverage.coverage_problem_page(
        actor=request.user,
        problem=problem,
        area=area,
        unresolved_only=unresolved_only,
        page_number=request.GET.get("page"),
        per_page=settings.SHOUWANG_PAGE_SIZE,
    )
    rows = [(row, row.detail(problem)) for row in problem_rows]
    context = {
        "problem": problem,
        "label": coverage.Problem.LABELS[problem],
        "kinds": [(key, coverage.Problem.LABELS[key]) for key in coverage.Problem.ALL],
        "area": area,
        "township": area if area is not None and area.level == DivisionLevel.TOWNSHIP else None,
        "unresolved_only": unresolved_only,
        "page": page,
        "rows": rows,
    }
    return render(request, "assistance/coverage_problems.html", context)


@viewers_only
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """The table and the problem lists as one workbook; POST, since every export is audited."""
    township = _township(request, request.POST)
    unresolved_only = _unresolved_only(request.POST)
    scope = township.name if township is not None else _("辖区")
    name = _("帮扶覆盖情况") + f"-{scope}-{timezone.localdate():%Y%m%d}.xlsx"
    directory = Path(tempfile.mkdtemp(prefix="shouwang-"))
    try:
        path = directory / name
        coverage.coverage_export(
            actor=request.user, path=path, township=township, unresolved_only=unresolved_only
        )
        # POSIX keeps the open file readable after its directory is removed.
        handle = path.open("rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return FileResponse(handle, as_attachment=True, filename=name)
