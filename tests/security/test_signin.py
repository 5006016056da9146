"""Sign-in is limited by user name and by address, on the login page and the token endpoint
alike; repeated failures lock for the configured time; every attempt is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shouwang.core.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # tests.factories.make_user's password
TOKEN_URL = "/api/auth/token/"


def _login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_thirty_wrong_passwords_lock_the_page_login_and_the_right_one_waits(client, village_cadre):
    responses = [_login(client, "cadre-a", f"guess-{i}") for i in range(30)]
    assert all(r.status_code == 200 for r in responses)
    assert "已暂时锁定" in responses[5].content.decode()
    # The right password does not sign in while the lock lasts.
    right = _login(client, "cadre-a", PASSWORD)
    assert right.status_code == 200 and "已暂时锁定" in right.content.decode()
    assert "_auth_user_id" not in client.session
    # Every attempt is audited: five checked (the fifth locks), the rest refused unchecked.
    failed = AuditEvent.objects.filter(action="sign_in_failed", actor=village_cadre)
    assert failed.count() == 31
    assert failed.filter(extra__locked=["user"]).count() == 1
    assert failed.filter(extra__refused="locked").count() == 26


def test_the_page_lock_also_holds_for_the_token_endpoint(client, village_cadre):
    for i in range(5):
        _login(client, "cadre-a", f"guess-{i}", address="127.0.0.1")
    response = APIClient().post(TOKEN_URL, {"username": "cadre-a", "password": PASSWORD})
    assert response.status_code == 429
    assert "已暂时锁定" in response.json()["message"]


def test_one_address_guessing_many_names_is_locked(client, village_cadre):
    for i in range(20):
        _login(client, f"nobody-{i}", "x", address="10.9.9.9")
    # The address is locked now, even for a real account's right password.
    assert "已暂时锁定" in _login(client, "cadre-a", PASSWORD, address="10.9.9.9").content.decode()
    # From elsewhere the account signs in.
    response = _login(client, "cadre-a", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_the_lock_ends_after_its_time(client, village_cadre, settings, monkeypatch):
    import time

    for i in range(5):
        _login(client, "cadre-a", f"guess-{i}")
    later = time.time() + settings.SHOUWANG_SIGNIN_LOCK_MINUTES * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login(client, "cadre-a", PASSWORD).status_code == 302


def test_every_sign_in_is_audited_with_its_address(client, village_cadre):
    _login(client, "cadre-a", PASSWORD, address="10.1.2.3")
    APIClient().post(TOKEN_URL, {"username": "cadre-a", "password": PASSWORD})
    events = AuditEvent.objects.filter(action="sign_in", actor=village_cadre)
    assert events.count() == 2
    assert events.filter(extra__address="10.1.2.3").exists()
    # A failed one is audited too, from a browser not signed in.
    _login(APIClient(), "cadre-a", "wrong")
    assert AuditEvent.objects.filter(action="sign_in_failed").count() == 1
    assert f.make_user("cadre-b", divisions=[f.VILLAGE_B])  # other accounts are unaffected
