"""The to-do page: everything waiting on the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shouwang.cases.todo import todo_groups
from shouwang.core.views import denied_as_403


@denied_as_403
def todo(request: HttpRequest) -> HttpResponse:
    groups = todo_groups(actor=request.user, today=timezone.localdate())
    return render(request, "cases/todo.html", {"groups": groups})
