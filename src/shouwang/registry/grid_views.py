"""Grid pages: grids of the actor's area, one grid with its workers and households, edits."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouwang.core.jurisdiction import can_edit_registry
from shouwang.registry import grid_selectors, grid_services
from shouwang.registry.forms import add_service_errors
from shouwang.registry.grid_forms import AssignForm, GridCreateForm, GridEditForm
from shouwang.registry.models import Grid, Household
from shouwang.registry.selectors import household_get
from shouwang.registry.views import editor_required


def _grid_or_404(request: HttpRequest, pk: int) -> Grid:
    try:
        return grid_selectors.grid_get(actor=request.user, pk=pk)
    except Grid.DoesNotExist:
        raise Http404 from None


@login_required
def grid_list(request: HttpRequest) -> HttpResponse:
    grids = grid_selectors.grid_list(actor=request.user)
    village = (request.GET.get("village") or "").strip()
    if village:
        grids = grids.filter(village_id=village)
    page = Paginator(grids, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "can_edit": can_edit_registry(request.user)}
    return render(request, "registry/grid_list.html", context)


def _detail(
    request: HttpRequest, grid: Grid, assign_form: AssignForm | None = None, status: int = 200
) -> HttpResponse:
    can_edit = can_edit_registry(request.user)
    households = grid_selectors.grid_households(grid=grid)
    page = Paginator(households, settings.SHOUWANG_PAGE_SIZE).get_page(request.GET.get("page"))
    if can_edit and assign_form is None:
        assign_form = AssignForm(actor=request.user, grid=grid)
    context = {
        "grid": grid,
        "page": page,
        "can_edit": can_edit,
        "form": assign_form,
    }
    return render(request, "registry/grid_detail.html", context, status=status)


@login_required
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _grid_or_404(request, pk))


@editor_required
def grid_create(request: HttpRequest) -> HttpResponse:
    form = GridCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            grid = grid_services.grid_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                village=form.cleaned_data["village"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("已新建网格 %(name)s，请选择网格员并分配农户。") % {"name": grid.name}
            )
            return redirect("grids:grid_edit", pk=grid.pk)
    return render(request, "registry/grid_form.html", {"form": form, "grid": None})


@editor_required
def grid_edit(request: HttpRequest, pk: int) -> HttpResponse:
    grid = _grid_or_404(request, pk)
    form = GridEditForm(request.POST or None, grid=grid)
    if request.method == "POST" and form.is_valid():
        try:
            grid_services.grid_update(
                actor=request.user,
                grid=grid,
                name=form.cleaned_data["name"],
                members=form.cleaned_data["members"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存网格 %(name)s。") % {"name": grid.name})
            return redirect("grids:grid_detail", pk=grid.pk)
    return render(request, "registry/grid_form.html", {"form": form, "grid": grid})


@editor_required
def grid_delete(request: HttpRequest, pk: int) -> HttpResponse:
    grid = _grid_or_404(request, pk)
    if request.method == "POST":
        grid_services.grid_delete(actor=request.user, grid=grid)
        messages.success(request, _("已删除网格 %(name)s。") % {"name": grid.name})
        return redirect("grids:grid_list")
    return render(request, "registry/grid_confirm_delete.html", {"grid": grid})


@require_POST
@editor_required
def grid_assign(request: HttpRequest, pk: int) -> HttpResponse:
    grid = _grid_or_404(request, pk)
    form = AssignForm(request.POST, actor=request.user, grid=grid)
    if form.is_valid():
        try:
            changed = grid_services.households_assign_to_grid(
                actor=request.user,
                grid=grid,
                household_ids=[h.pk for h in form.cleaned_data["numbers"]],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将 %(count)d 户分配到网格 %(name)s。") % {"count": changed, "name": grid.name},
            )
            return redirect("grids:grid_detail", pk=grid.pk)
    # The typed numbers come back in the form, so nothing is lost.
    return _detail(request, grid, form, status=400)


@require_POST
@editor_required
def grid_remove(request: HttpRequest, pk: int, household_pk: int) -> HttpResponse:
    grid = _grid_or_404(request, pk)
    # Another area's household is not there at all (404), even named under one's own grid.
    try:
        household = household_get(actor=request.user, pk=household_pk)
    except Household.DoesNotExist:
        raise Http404 from None
    if grid_services.households_remove_from_grid(
        actor=request.user, grid=grid, household_ids=[household.pk]
    ):
        messages.success(request, _("已将该户移出网格。"))
    return redirect("grids:grid_detail", pk=grid.pk)
