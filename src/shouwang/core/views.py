"""Pages of the core app: login, the home page, and the error pages other views render."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from shouwang.core import signin
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.jurisdiction import has_role

View = Callable[..., HttpResponse]


def denied_as_403(view: View) -> View:
    """Login required; a service's PermissionDenied becomes the 403 page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return permission_denied(request, exc)

    return wrapper


def roles_only(roles: frozenset[str], message: Any) -> Callable[[View], View]:
    """Login required; other roles get the 403 page with ``message`` before any lookup."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, roles):
                raise PermissionDenied(str(message))
            return view(request, *args, **kwargs)

        return denied_as_403(wrapper)

    return decorate


class LoginForm(AuthenticationForm):
    """Django's sign-in form, which says so when repeated failures have locked sign-in."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        wait = signin.lock_remaining(username, signin.client_address(self.request))
        if wait:
            message = signin.refuse_locked(username, self.request, wait)
            raise forms.ValidationError(message, code="locked")
        return super().clean()


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page; ``exception`` may be our PermissionDenied, whose message is Chinese."""
    return render(
        request, "core/403.html", {"message": getattr(exception, "message", "")}, status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page; under /api/ the API's one error body instead, in JSON."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": _("未找到。"), "code": "not_found", "extra": {}},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "core/404.html", status=404)
