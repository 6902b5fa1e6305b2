"""Who may do what on the Order API: every operation x {anonymous, the customer who owns the
order, another customer, staff}, with bearer tokens as clients send them. The README's
permission table says the same."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from order_service.orders import reactions
from order_service.orders.models import Order
from shared_events.contracts import ReservedLine
from tests.order_service.factories import order_create
from tests.support.endpoints import api_operations
from tests.support.ops import OPS_MATRIX, dead_letter_create, ops_cases, replays_to_fake_kafka
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "customer", "other", "staff")
ORDER = {"lines": [{"sku": "KEYBOARD-01", "quantity": 1}]}

# (method, route, path, body): {role: status}. `{id}` is an order of "customer", confirmed.
MATRIX = [
    (("GET", "api/orders/", "/api/orders/", None), (401, 200, 200, 200)),
    (("POST", "api/orders/", "/api/orders/", ORDER), (401, 201, 201, 201)),
    (("GET", "api/orders/<uuid:order_id>/", "/api/orders/{id}/", None), (401, 200, 404, 200)),
    (
        ("PATCH", "api/orders/<uuid:order_id>/", "/api/orders/{id}/", {"note": "ring twice"}),
        (401, 200, 404, 200),
    ),
    (
        ("POST", "api/orders/<uuid:order_id>/cancel/", "/api/orders/{id}/cancel/", {}),
        (401, 202, 404, 202),
    ),
    (
        ("POST", "api/orders/<uuid:order_id>/ship/", "/api/orders/{id}/ship/", None),
        (401, 403, 403, 200),
    ),
    (
        ("GET", "api/orders/<uuid:order_id>/timeline/", "/api/orders/{id}/timeline/", None),
        (401, 200, 404, 200),
    ),
]
CASES = [
    pytest.param(
        *operation, role, statuses[ROLES.index(role)], id=f"{operation[0]} {operation[1]} {role}"
    )
    for operation, statuses in MATRIX
    for role in ROLES
]


@pytest.fixture
def users() -> dict[str, object]:
    model = get_user_model()
    return {
        "customer": model.objects.create_user("cora", password="pw-cora-123"),
        "other": model.objects.create_user("otto", password="pw-otto-123"),
        "staff": model.objects.create_user("stan", password="pw-stan-123", is_staff=True),
    }


def _client(role: str, users: dict[str, object]) -> APIClient:
    api = APIClient()
    if role != "anonymous":
        user = users[role]
        token = access_token(
            user.pk,
            username=user.username,
            is_staff=user.is_staff,
        )
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def _confirmed_order_of(user: object) -> Order:
    order = order_create(customer_id=str(user.pk))
    reactions.orders_confirm(
        reservations=[
            reactions.StockReservation(
                order_id=order.id,
                total_amount=Decimal("203.50"),
                lines=(
                    ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("89")),
                    ReservedLine(sku="MOUSE-01", quantity=1, unit_price=Decimal("25.5")),
                ),
            )
        ]
    )
    return Order.objects.get(id=order.id)


def test_the_matrix_covers_every_order_api_operation():
    assert {(method, route) for (method, route, _, _), _ in MATRIX} == api_operations("api/orders/")


@pytest.mark.parametrize("method, route, path, body, role, expected", CASES)
def test_who_may_do_what(users, method, route, path, body, role, expected):
    order = _confirmed_order_of(users["customer"])
    before = list(Order.objects.values_list("id", "status", "note").order_by("id"))

    response = _client(role, users).generic(
        method,
        path.format(id=order.id),
        data=None if body is None else json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        # A refused request changes nothing.
        after = Order.objects.values_list("id", "status", "note").order_by("id")
        assert list(after) == before


def test_a_customer_lists_only_their_own_orders_and_staff_list_everyone_s(users):
    mine = _confirmed_order_of(users["customer"])
    theirs = _confirmed_order_of(users["other"])

    def listed(role: str) -> set[str]:
        body = _client(role, users).get("/api/orders/").json()
        return {order["id"] for order in body["results"]}

    assert listed("customer") == {str(mine.id)}
    assert listed("other") == {str(theirs.id)}
    assert listed("staff") == {str(mine.id), str(theirs.id)}
    filtered = _client("customer", users).get("/api/orders/", {"customer_id": users["other"].pk})
    assert filtered.json()["results"] == []


def test_the_ops_matrix_covers_every_ops_api_operation():
    assert {(m, route) for (m, route, _, _), _ in OPS_MATRIX} == api_operations("api/ops/")


@pytest.mark.parametrize("method, route, path, body, role, expected", ops_cases(ROLES))
def test_only_staff_use_the_ops_api(users, monkeypatch, method, route, path, body, role, expected):
    letter = dead_letter_create()
    broker = replays_to_fake_kafka(monkeypatch)

    response = _client(role, users).generic(
        method,
        path.format(letter_id=letter.id),
        data=None if body is None else json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        # A refused replay sends nothing and marks nothing.
        assert broker.logs == {}
        letter.refresh_from_db()
        assert letter.replay_count == 0 and letter.replayed_at is None
