"""API clients that sign in with a real token, as API users do."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api_client_for(db):
    def build(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return build


@pytest.fixture
def cadre_api(api_client_for, village_cadre):
    return api_client_for(village_cadre)


@pytest.fixture
def district_api(api_client_for, district_staff):
    return api_client_for(district_staff)
