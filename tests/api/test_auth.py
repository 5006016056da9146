import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    # The sign-in throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def test_token_is_issued_for_a_valid_password_and_opens_the_api(village_cadre):
    f.make_household(f.VILLAGE_A, members=1)
    client = APIClient()
    response = client.post(
        TOKEN_URL, {"username": "cadre-a", "password": "pw-for-tests"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=village_cadre).key

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listing = client.get("/api/households/")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1


def test_the_same_user_gets_the_same_token(village_cadre):
    client = APIClient()
    first = client.post(TOKEN_URL, {"username": "cadre-a", "password": "pw-for-tests"}).json()[
        "token"
    ]
    second = client.post(TOKEN_URL, {"username": "cadre-a", "password": "pw-for-tests"}).json()[
        "token"
    ]
    assert first == second


def test_wrong_password_is_a_400_with_a_chinese_message(village_cadre):
    response = APIClient().post(
        TOKEN_URL, {"username": "cadre-a", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "无法使用提供的认证信息登录。"
    assert body["extra"]["fields"]["non_field_errors"] == [body["message"]]
    assert not Token.objects.filter(user=village_cadre).exists()


def test_missing_fields_are_named(village_cadre):
    response = APIClient().post(TOKEN_URL, {"username": "cadre-a"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "输入有误"
    assert response.json()["extra"]["fields"]["password"] == ["该字段是必填项。"]


def test_a_body_that_is_not_an_object_is_a_400():
    response = APIClient().post(TOKEN_URL, ["cadre-a", "pw-for-tests"], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_password_guessing_is_throttled_per_user_name(village_cadre):
    client = APIClient()
    statuses = [
        client.post(TOKEN_URL, {"username": "cadre-a", "password": f"guess-{i}"}).status_code
        for i in range(11)
    ]
    sixth = client.post(TOKEN_URL, {"username": "cadre-a", "password": "x"})
    assert sixth.status_code == 429
    # Five failures lock the user name (core.signin), before the request rate limit of ten.
    assert statuses == [400] * 5 + [429] * 6
    locked = client.post(TOKEN_URL, {"username": "cadre-a", "password": "pw-for-tests"})
    assert locked.status_code == 429  # the rate limit of ten a minute answers first now
    # Another account is not locked by the guesses at this one.
    other = f.make_user("cadre-b", divisions=[f.VILLAGE_B])
    response = client.post(TOKEN_URL, {"username": "cadre-b", "password": "pw-for-tests"})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=other).key


@pytest.mark.parametrize("path", ["/api/households/", "/api/members/", "/api/divisions/"])
def test_api_needs_authentication(path, village_cadre):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["message"] == "身份认证信息未提供。"


def test_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/households/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_inactive_user_token_is_refused(api_client_for, village_cadre):
    client = api_client_for(village_cadre)
    village_cadre.is_active = False
    village_cadre.save()
    assert client.get("/api/households/").status_code == 401
