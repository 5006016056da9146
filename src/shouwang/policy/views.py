"""Policy value pages: the list grouped by parameter, and the district administrator's add,
change and delete forms."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.views import roles_only
from shouwang.policy import services as policy_services
from shouwang.policy.forms import PolicyValueForm
from shouwang.policy.models import PolicyValue
from shouwang.policy.parameters import PARAMETERS
from shouwang.policy.permissions import POLICY_EDITORS, POLICY_VIEWERS, can_edit_policy
from shouwang.policy.selectors import policy_value_list

policy_viewers_only = roles_only(POLICY_VIEWERS, gettext_lazy("只有区县工作人员可以查看政策参数"))
policy_editors_only = roles_only(POLICY_EDITORS, gettext_lazy("只有区县管理员可以修改政策参数"))
POLICY_ROWS_PER_PAGE = 60


_URL = re.compile(r"https?://[^\s，。；、）)]+")


def _link_parts(text: str) -> list[tuple[str, bool]]:
    """Split text into (piece, is a web address), so sources written as "公报 https://…" link."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _URL.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], False))
        parts.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        parts.append((text[position:], False))
    return parts


@policy_viewers_only
def policy_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(policy_value_list(), POLICY_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    grouped: dict[str, list[PolicyValue]] = {}
    for row in page.object_list:
        row.value_text = number_format(row.value.normalize(), force_grouping=True)
        row.source_parts = _link_parts(row.source)
        grouped.setdefault(row.parameter, []).append(row)
    # Every known parameter shows on the first page, even without values, so one can be added.
    keys = list(PARAMETERS) if page.number == 1 else []
    keys += [k for k in grouped if k not in keys]
    groups = [(key, PARAMETERS.get(key), grouped.get(key, [])) for key in keys]
    context = {
        "page": page,
        "groups": groups,
        "can_edit": can_edit_policy(request.user),
    }
    return render(request, "policy/policy_list.html", context)


def _policy_or_404(pk: int) -> PolicyValue:
    try:
        return policy_value_list().get(pk=pk)
    except PolicyValue.DoesNotExist:
        raise Http404 from None


def _policy_form_page(request: HttpRequest, row: PolicyValue | None) -> HttpResponse:
    if request.method == "POST":
        form = PolicyValueForm(request.POST)
        if form.is_valid():
            try:
                if row is None:
                    saved = policy_services.policy_value_create(
                        actor=request.user, **form.service_data()
                    )
                else:
                    saved = policy_services.policy_value_update(
                        actor=request.user, policy_value=row, **form.service_data()
                    )
            except PermissionDenied:
                raise
            except ApplicationError as exc:
                form.add_service_errors(exc)
            else:
                label = PARAMETERS[saved.parameter].label
                messages.success(request, _("已保存“%(label)s”。") % {"label": label})
                return redirect(f"{reverse('policy:policy_list')}#parameter-{saved.parameter}")
    elif row is None:
        parameter = request.GET.get("parameter", "")
        form = PolicyValueForm(initial={"parameter": parameter if parameter in PARAMETERS else ""})
    else:
        form = PolicyValueForm(
            initial={
                "parameter": row.parameter,
                "division": row.division_id,
                "year": row.year,
                "value": format(row.value.normalize(), "f"),
                "source": row.source,
                "note": row.note,
            }
        )
    parameters = [
        (key, p.label, p.unit, p.per_year, p.description) for key, p in PARAMETERS.items()
    ]
    return render(
        request, "policy/policy_form.html", {"form": form, "row": row, "parameters": parameters}
    )


@policy_editors_only
def policy_create(request: HttpRequest) -> HttpResponse:
    return _policy_form_page(request, None)


@policy_editors_only
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _policy_form_page(request, _policy_or_404(pk))


@policy_editors_only
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = _policy_or_404(pk)
    if request.method == "POST":
        policy_services.policy_value_delete(actor=request.user, policy_value=row)
        messages.success(request, _("已删除。"))
        return redirect("policy:policy_list")
    parameter = PARAMETERS.get(row.parameter)
    context = {"row": row, "label": parameter.label if parameter else row.parameter}
    return render(request, "policy/policy_confirm_delete.html", context)
