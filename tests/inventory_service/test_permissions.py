"""Who may do what on the Inventory API: every operation x {anonymous, a customer, another
customer, staff}, with bearer tokens signed by the order service's key and checked here with
its public key alone. The README's permission table says the same."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from inventory_service.stock.models import Product
from tests.inventory_service.factories import product_create
from tests.support.endpoints import api_operations
from tests.support.ops import OPS_MATRIX, dead_letter_create, ops_cases, replays_to_fake_kafka
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "customer", "other", "staff")
NEW = {"sku": "NEW-1", "name": "New", "unit_price": "5.00", "available_quantity": 1}
FULL = {"name": "Renamed", "unit_price": "7.00", "low_stock_threshold": 2}

# (method, route, path, body): statuses by role. `{sku}` is an existing product.
MATRIX = [
    (("GET", "api/products/", "/api/products/", None), (200, 200, 200, 200)),
    (("POST", "api/products/", "/api/products/", NEW), (401, 403, 403, 201)),
    (("GET", "api/products/<str:sku>/", "/api/products/{sku}/", None), (200, 200, 200, 200)),
    (
        ("PATCH", "api/products/<str:sku>/", "/api/products/{sku}/", {"unit_price": "1.00"}),
        (401, 403, 403, 200),
    ),
    (("PUT", "api/products/<str:sku>/", "/api/products/{sku}/", FULL), (401, 403, 403, 200)),
    (
        (
            "POST",
            "api/products/<str:sku>/restock/",
            "/api/products/{sku}/restock/",
            {"quantity": 3},
        ),
        (401, 403, 403, 200),
    ),
]
CASES = [
    pytest.param(
        *operation, role, statuses[ROLES.index(role)], id=f"{operation[0]} {operation[1]} {role}"
    )
    for operation, statuses in MATRIX
    for role in ROLES
]
# Customers are accounts of the order service: this service has no row for them.
TOKENS = {
    "customer": {"user_id": 101, "username": "cora", "is_staff": False},
    "other": {"user_id": 102, "username": "otto", "is_staff": False},
    "staff": {"user_id": 103, "username": "stan", "is_staff": True},
}


def _client(role: str) -> APIClient:
    api = APIClient()
    if role != "anonymous":
        claims = dict(TOKENS[role])
        token = access_token(claims.pop("user_id"), **claims)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def _products() -> list[tuple[object, ...]]:
    return list(
        Product.objects.values_list(
            "sku", "name", "unit_price", "available_quantity", "low_stock_threshold"
        ).order_by("sku")
    )


def test_the_matrix_covers_every_product_api_operation():
    assert {(m, route) for (m, route, _, _), _ in MATRIX} == api_operations("api/products/")


@pytest.mark.parametrize("method, route, path, body, role, expected", CASES)
def test_who_may_do_what(method, route, path, body, role, expected):
    product = product_create(sku="OLD-1")
    before = _products()

    response = _client(role).generic(
        method,
        path.format(sku=product.sku),
        data=None if body is None else json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert _products() == before  # a refused request changes nothing
    assert not get_user_model().objects.exists()  # no account was looked up or made here


def test_the_ops_matrix_covers_every_ops_api_operation():
    assert {(m, route) for (m, route, _, _), _ in OPS_MATRIX} == api_operations("api/ops/")


@pytest.mark.parametrize("method, route, path, body, role, expected", ops_cases(ROLES))
def test_only_staff_use_the_ops_api(monkeypatch, method, route, path, body, role, expected):
    letter = dead_letter_create()
    broker = replays_to_fake_kafka(monkeypatch)

    response = _client(role).generic(
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
