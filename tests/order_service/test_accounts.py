"""Accounts: register, obtain a token pair, refresh; what the tokens carry and who can forge
one."""

import jwt
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from order_service.orders.models import Order
from service_platform.settings.identity import TOKEN_AUDIENCE, TOKEN_ISSUER
from service_platform.signing_keys import key_pair_generate
from tests.support.tokens import access_token, public_key

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ORDER = {"lines": [{"sku": "KEYBOARD-01", "quantity": 1}]}


def _register(username: str = "dana", password: str = PASSWORD):
    return APIClient().post(
        "/api/auth/register/", {"username": username, "password": password}, format="json"
    )


def _tokens(username: str = "dana", password: str = PASSWORD) -> dict[str, str]:
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_register_creates_a_customer_who_gets_a_token_pair_and_places_an_order():
    registered = _register()
    assert registered.status_code == 201
    user = get_user_model().objects.get(username="dana")
    assert registered.json() == {"id": str(user.pk), "username": "dana"}
    assert not user.is_staff and not user.is_superuser

    tokens = _tokens()
    assert set(tokens) == {"access", "refresh"}
    placed = _bearer(tokens["access"]).post("/api/orders/", ORDER, format="json")
    assert placed.status_code == 201 and placed.json()["customer_id"] == str(user.pk)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "erin", "password": "short"}, "password"),
        ({"username": "erinsmith1", "password": "erinsmith1"}, "password"),
        ({"username": "erin", "password": "password123"}, "password"),
        ({"username": "erin", "password": "4815162342"}, "password"),
        ({"username": "bad name!", "password": PASSWORD}, "username"),
        ({"username": "x" * 151, "password": PASSWORD}, "username"),
        ({"username": "erin", "password": "p" * 129}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": "erin"}, "password"),
    ],
)
def test_register_refuses_bad_input_with_field_errors(body, field):
    response = APIClient().post("/api/auth/register/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not get_user_model().objects.exists()


def test_a_taken_username_is_a_400_on_username():
    assert _register().status_code == 201
    again = _register()
    assert again.status_code == 400 and "username" in again.json()
    assert get_user_model().objects.count() == 1


def test_the_access_token_is_rs256_short_lived_and_carries_what_authorization_needs():
    get_user_model().objects.create_user("sam", password=PASSWORD, is_staff=True)
    access = _tokens("sam")["access"]
    assert jwt.get_unverified_header(access)["alg"] == "RS256"
    claims = jwt.decode(access, public_key(), algorithms=["RS256"], audience=TOKEN_AUDIENCE)
    user = get_user_model().objects.get(username="sam")
    assert claims["user_id"] == str(user.pk)
    assert claims["username"] == "sam" and claims["is_staff"] is True
    assert claims["iss"] == TOKEN_ISSUER and claims["aud"] == TOKEN_AUDIENCE
    assert claims["token_type"] == "access"
    assert 0 < claims["exp"] - claims["iat"] <= 15 * 60


def test_wrong_passwords_get_no_token():
    _register()
    response = APIClient().post(
        "/api/auth/token/", {"username": "dana", "password": "wrong"}, format="json"
    )
    assert response.status_code == 401


def test_refresh_returns_a_new_access_token_with_the_current_claims():
    _register()
    tokens = _tokens()
    get_user_model().objects.filter(username="dana").update(is_staff=True)
    refreshed = APIClient().post(
        "/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    access = refreshed.json()["access"]
    claims = jwt.decode(access, public_key(), algorithms=["RS256"], audience=TOKEN_AUDIENCE)
    assert claims["is_staff"] is True and claims["username"] == "dana"
    # An access token is not a refresh token.
    assert (
        APIClient()
        .post("/api/auth/token/refresh/", {"refresh": tokens["access"]}, format="json")
        .status_code
        == 401
    )


def test_a_deactivated_user_cannot_refresh():
    _register()
    tokens = _tokens()
    get_user_model().objects.filter(username="dana").update(is_active=False)
    refreshed = APIClient().post(
        "/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: access_token(1, key=key_pair_generate()), id="another-key"),
        pytest.param(
            lambda: access_token(1, key=public_key(), algorithm="HS256"), id="hs256-with-public-key"
        ),
        pytest.param(lambda: access_token(1, exp=1), id="expired"),
        pytest.param(lambda: access_token(1, aud="another-api"), id="another-audience"),
        pytest.param(lambda: access_token(1, iss="someone-else"), id="another-issuer"),
        pytest.param(lambda: access_token(1, token_type="refresh"), id="a-refresh-token"),
        pytest.param(lambda: access_token(1)[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda: "not-a-token", id="garbage"),
    ],
)
def test_forged_or_stale_tokens_are_401_and_write_nothing(token):
    response = _bearer(token()).post("/api/orders/", ORDER, format="json")
    assert response.status_code == 401
    assert not Order.objects.exists()
