"""The Product HTTP API."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from inventory_service.stock.models import Product
from tests.inventory_service.factories import product_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.create_user("alice", password="pw"))
    return api


def test_create_read_update_and_list_products(client):
    created = client.post(
        "/api/products/",
        {
            "sku": "DESK-1",
            "name": "Desk",
            "unit_price": "99.90",
            "available_quantity": 4,
            "low_stock_threshold": 5,
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["is_low"] is True
    updated = client.patch("/api/products/DESK-1/", {"unit_price": "89.90"}, format="json")
    assert updated.status_code == 200 and updated.json()["unit_price"] == "89.90"
    assert client.get("/api/products/DESK-1/").json()["available_quantity"] == 4
    product_create(sku="PLENTY-1", available_quantity=100)
    low = client.get("/api/products/", {"low_stock": "true"}).json()
    assert [p["sku"] for p in low["results"]] == ["DESK-1"]


def test_restock_adds_units(client):
    product = product_create(available_quantity=1)
    response = client.post(f"/api/products/{product.sku}/restock/", {"quantity": 9}, format="json")
    assert response.status_code == 200 and response.json()["available_quantity"] == 10


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({}, "quantity"),
    ],
)
def test_invalid_restock_is_a_400(client, payload, field):
    product = product_create(available_quantity=1)
    response = client.post(f"/api/products/{product.sku}/restock/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Product.objects.get(sku=product.sku).available_quantity == 1


def test_stock_counters_cannot_be_written_directly(client):
    product = product_create(available_quantity=1)
    client.patch(
        f"/api/products/{product.sku}/",
        {"available_quantity": 500, "reserved_quantity": 3},
        format="json",
    )
    product.refresh_from_db()
    assert (product.available_quantity, product.reserved_quantity) == (1, 0)


def test_duplicate_sku_and_bad_fields_are_400(client):
    product_create(sku="DUP-1")
    dup = client.post(
        "/api/products/", {"sku": "DUP-1", "name": "x", "unit_price": "1"}, format="json"
    )
    assert dup.status_code == 400 and dup.json()["extra"] == {"sku": "DUP-1"}
    bad = client.post(
        "/api/products/", {"sku": "lower", "name": "", "unit_price": "-1"}, format="json"
    )
    assert bad.status_code == 400 and {"sku", "name", "unit_price"} <= set(bad.json())


def test_unknown_product_is_404(client):
    assert client.get("/api/products/NOPE-1/").status_code == 404
    assert (
        client.post("/api/products/NOPE-1/restock/", {"quantity": 1}, format="json").status_code
        == 404
    )
