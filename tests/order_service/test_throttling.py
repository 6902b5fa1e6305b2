"""Throttles: 429 with Retry-After, counted in Redis so every worker shares the count."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import override_settings
from rest_framework.test import APIClient

from service_platform.throttling import THROTTLE_CACHE
from tests.support.throttles import fresh_throttle_counters
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db

ORDER = {"lines": [{"sku": "KEYBOARD-01", "quantity": 1}]}


def _rates(**rates: str):
    """Every scope unlimited but those given."""
    unlimited = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min")
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**unlimited, **rates},
        }
    )


@pytest.fixture(autouse=True)
def fresh_counters():
    """Counters of this test only (never `clear()`: it empties the whole Redis database)."""
    with fresh_throttle_counters():
        yield


def _throttled(response) -> bool:
    if response.status_code != 429:
        return False
    assert int(response["Retry-After"]) > 0
    return True


def _log_in(username: str, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token/", {"username": username, "password": "wrong"}, format="json"
    )


def test_log_ins_are_throttled_per_address():
    with _rates(credentials_ip="3/min"):
        answers = [_log_in(f"user-{n}") for n in range(4)]
        assert [a.status_code for a in answers[:3]] == [401, 401, 401]
        assert _throttled(answers[3])
        assert _log_in("user-9", address="10.0.0.2").status_code == 401


def test_log_ins_are_throttled_per_username_from_any_address():
    with _rates(credentials_user="2/min"):
        answers = [_log_in("victim", address=f"10.0.1.{n}") for n in range(3)]
        assert [a.status_code for a in answers[:2]] == [401, 401]
        assert _throttled(answers[2])
        assert _throttled(_log_in("VICTIM", address="10.0.1.99"))
        assert _log_in("someone-else", address="10.0.1.99").status_code == 401


def test_registrations_are_throttled_per_address():
    with _rates(register_ip="2/min"):
        answers = [
            APIClient(REMOTE_ADDR="10.0.2.1").post(
                "/api/auth/register/",
                {"username": f"new-{n}", "password": "correct-horse-battery"},
                format="json",
            )
            for n in range(3)
        ]
        assert [a.status_code for a in answers[:2]] == [201, 201]
        assert _throttled(answers[2])
        assert get_user_model().objects.count() == 2


def test_refreshes_are_throttled_per_address():
    with _rates(credentials_ip="2/min"):
        answers = [
            APIClient(REMOTE_ADDR="10.0.3.1").post(
                "/api/auth/token/refresh/", {"refresh": "not-a-token"}, format="json"
            )
            for _ in range(3)
        ]
        assert [a.status_code for a in answers[:2]] == [401, 401]
        assert _throttled(answers[2])


def test_refreshes_are_throttled_per_account_from_any_address():
    get_user_model().objects.create_user("rita", password="correct-horse-battery")
    refresh = (
        APIClient()
        .post("/api/auth/token/", {"username": "rita", "password": "correct-horse-battery"})
        .json()["refresh"]
    )
    with _rates(credentials_user="1/min"):
        answers = [
            APIClient(REMOTE_ADDR=f"10.0.7.{n}").post(
                "/api/auth/token/refresh/", {"refresh": refresh}, format="json"
            )
            for n in range(2)
        ]
        assert answers[0].status_code == 200
        assert _throttled(answers[1])


def test_order_creation_is_throttled_per_user():
    def client(user_id: int) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user_id)}")
        return api

    with _rates(order_create="2/min"):
        first = client(501)
        answers = [first.post("/api/orders/", ORDER, format="json") for _ in range(3)]
        assert [a.status_code for a in answers[:2]] == [201, 201]
        assert _throttled(answers[2])
        assert first.get("/api/orders/").status_code == 200  # reading is not placing
        assert client(502).post("/api/orders/", ORDER, format="json").status_code == 201


def test_the_admin_log_in_is_throttled():
    with _rates(admin_login_ip="2/min"):
        answers = [
            APIClient(REMOTE_ADDR="10.0.5.1").post(
                "/admin/login/", {"username": f"a{n}", "password": "wrong"}
            )
            for n in range(3)
        ]
        assert [a.status_code for a in answers[:2]] == [200, 200]  # the form again, with errors
        assert _throttled(answers[2])


def test_counts_live_in_redis_shared_by_every_worker():
    assert settings.CACHES[THROTTLE_CACHE]["BACKEND"].endswith("RedisCache")
    with _rates(credentials_ip="1/min"):
        assert _log_in("x", address="10.0.6.1").status_code == 401
        # Another process has its own cache client: it sees the same count.
        caches[THROTTLE_CACHE].close()
        assert _throttled(_log_in("y", address="10.0.6.1"))


def test_orders_are_placed_while_redis_is_unreachable(caplog):
    # given the throttle counters' Redis does not answer
    unreachable = {**settings.CACHES[THROTTLE_CACHE], "LOCATION": "redis://127.0.0.1:1/0"}
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {access_token(503)}")

    # when a customer places an order
    with override_settings(CACHES={**settings.CACHES, THROTTLE_CACHE: unreachable}):
        response = client.post("/api/orders/", ORDER, format="json")

    # then it is taken (PostgreSQL is all it needs), and the log says the throttle stood aside
    assert response.status_code == 201, response.content
    assert "throttle order_create not applied: Redis unreachable" in caplog.text


def test_behind_the_gateway_the_client_address_is_counted_not_the_gateways():
    def via_gateway(username: str, forwarded_for: str):
        return APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for).post(
            "/api/auth/token/", {"username": username, "password": "wrong"}, format="json"
        )

    with _rates(credentials_ip="3/min"):
        # the gateway appends the address it saw; whatever the client claimed before it varies
        answers = [via_gateway(f"user-{n}", f"192.0.2.{n}, 10.0.0.5") for n in range(4)]
        assert [a.status_code for a in answers[:3]] == [401, 401, 401]
        assert _throttled(answers[3])
        assert via_gateway("user-9", "10.0.0.6").status_code == 401
