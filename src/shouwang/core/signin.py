"""Sign-in guard for the page login and the API token alike: failures are counted per user
name and per client address, repeated failures lock sign-in for a configured time, and every
sign-in, failed sign-in and lock is audited.

It hooks into Django's authentication (``SignInGuardBackend`` and the
``user_login_failed`` signal), so any entry point that calls ``authenticate`` is covered.
Counts live in the cache that all gunicorn workers share (the file cache on one machine).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record
from shouwang.core.choices import AuditAction
from shouwang.core.models import User


@dataclass(frozen=True)
class Limits:
    per_user: int
    per_address: int
    window_seconds: int
    lock_seconds: int


def limits() -> Limits:
    return Limits(
        per_user=settings.SHOUWANG_SIGNIN_MAX_FAILURES,
        per_address=settings.SHOUWANG_SIGNIN_MAX_FAILURES_PER_ADDRESS,
        window_seconds=settings.SHOUWANG_SIGNIN_WINDOW_MINUTES * 60,
        lock_seconds=settings.SHOUWANG_SIGNIN_LOCK_MINUTES * 60,
    )


def client_address(request: HttpRequest | None) -> str:
    """The peer address; X-Forwarded-For is not trusted (anyone can send it)."""
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"signin:{kind}:{digest}"


def lock_remaining(username: str, address: str) -> int:
    """Seconds until sign-in opens again for this user name or address; 0 when open."""
    now = time.time()
    ends = [
        cache.get(_key(f"lock-{kind}", value)) or 0
        for kind, value in (("user", username), ("address", address))
        if value
    ]
    return max(0, math.ceil(max(ends, default=0) - now))


def locked_message(seconds: int) -> str:
    return _(
        "登录失败次数过多，已暂时锁定，请 %(m)d 分钟后再试；忘记密码请联系区县管理员重置。"
    ) % {"m": max(1, math.ceil(seconds / 60))}


def _count_failure(kind: str, value: str, limit: int, rules: Limits) -> bool:
    """Count one failure; True when this one reaches the limit and locks."""
    if not value:
        return False
    key = _key(kind, value)
    failures = (cache.get(key) or 0) + 1
    cache.set(key, failures, rules.window_seconds)
    if failures >= limit:
        cache.set(_key(f"lock-{kind}", value), time.time() + rules.lock_seconds, rules.lock_seconds)
        cache.delete(key)
        return True
    return False


def _user(username: str) -> User | None:
    return User.objects.filter(username__iexact=username.strip()).first() if username else None


def record_failure(username: str, request: HttpRequest | None) -> None:
    rules = limits()
    address = client_address(request)
    locked = [
        kind
        for kind, value, limit in (
            ("user", username, rules.per_user),
            ("address", address, rules.per_address),
        )
        if _count_failure(kind, value, limit, rules)
    ]
    user = _user(username)
    audit_record(
        actor=user,
        action=AuditAction.SIGN_IN_FAILED,
        target_type="core.user",
        target_id=str(user.pk) if user else "",
        target_repr=username[:150],
        extra={"address": address, "locked": locked},
    )


def refuse_locked(username: str, request: HttpRequest | None, seconds: int) -> str:
    """Audit an attempt refused while locked (its password is not checked); the message."""
    user = _user(username)
    audit_record(
        actor=user,
        action=AuditAction.SIGN_IN_FAILED,
        target_type="core.user",
        target_id=str(user.pk) if user else "",
        target_repr=username[:150],
        extra={"address": client_address(request), "refused": "locked"},
    )
    return locked_message(seconds)


def record_success(user: User, request: HttpRequest | None) -> None:
    cache.delete(_key("user", user.get_username()))
    audit_record(
        actor=user,
        action=AuditAction.SIGN_IN,
        target=user,
        extra={"address": client_address(request)},
    )


class SignInGuardBackend(ModelBackend):
    """Django's user-and-password check, refused while the user name or address is locked;
    a successful sign-in is audited here, a failed one by ``user_login_failed``."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and lock_remaining(username, client_address(request)):
            # PermissionDenied stops Django trying further backends and counts as a failure.
            raise PermissionDenied(locked_message(lock_remaining(username, "")))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            record_success(user, request)
        return user


@receiver(user_login_failed)
def _on_failure(sender, credentials, request=None, **kwargs) -> None:
    record_failure(str(credentials.get("username") or ""), request)
