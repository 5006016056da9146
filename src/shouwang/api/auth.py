"""Token sign-in for API clients: ``POST /api/auth/token/`` with a user name and password."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import SimpleRateThrottle

from shouwang.api.serializers import ErrorSerializer
from shouwang.core import signin


class TokenRequestThrottle(SimpleRateThrottle):
    """At most ten token requests a minute per user name.

    Keyed by the submitted user name rather than the client address, which proxies and forged
    X-Forwarded-For headers blur; this keeps password guessing slow (等保 2.0 asks for a limit
    on failed sign-ins).
    """

    scope = "api_token"
    rate = "10/minute"

    def get_cache_key(self, request, view) -> str:
        data = request.data if isinstance(request.data, Mapping) else {}
        username = str(data.get("username", "")).strip().lower()
        # A request without a peer address (a WSGI call in process) still has a key.
        ident = username or self.get_ident(request) or ""
        return self.cache_format % {
            "scope": self.scope,
            "ident": hashlib.sha256(ident.encode()).hexdigest(),
        }


@extend_schema(
    tags=["auth"],
    summary=_("用用户名和密码换取令牌"),
    description=_("之后的请求带上请求头 Authorization: Token <令牌>。同一用户每次得到同一令牌。"),
    request=AuthTokenSerializer,
    responses={
        200: AuthTokenSerializer,
        400: OpenApiResponse(ErrorSerializer, description=_("用户名或密码错误")),
        429: OpenApiResponse(ErrorSerializer, description=_("请求过于频繁")),
    },
)
class ObtainTokenView(ObtainAuthToken):
    # No session authentication here: a signed-in browser must not trip CSRF on this endpoint.
    authentication_classes = ()
    throttle_classes = (TokenRequestThrottle,)

    def post(self, request, *args, **kwargs):
        # The same lock as the page login (core.signin): a guesser gains nothing by switching.
        data = request.data if isinstance(request.data, Mapping) else {}
        username = str(data.get("username", ""))
        wait = signin.lock_remaining(username, signin.client_address(request))
        if wait:
            raise exceptions.Throttled(
                wait=wait, detail=signin.refuse_locked(username, request, wait)
            )
        return super().post(request, *args, **kwargs)
