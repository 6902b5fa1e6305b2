"""The Product HTTP API."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from inventory_service.stock.models import Product
from tests.inventory_service.factories import product_create

pytestmark = pytest.mark.django_db

NEW = {"sku": "NEW-1", "name": "New", "unit_price": "5.00"}


@pytest.fixture
def client() -> APIClient:
    """Staff, who may write products (tests/inventory_service/test_permissions.py walks who
    may do what)."""
    api = APIClient()
    user = get_user_model().objects.create_user("alice", password="pw", is_staff=True)
    api.force_authenticate(user)
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


def test_products_are_searched_by_sku_or_name_in_any_case(client):
    product_create(sku="LAMP-1", name="Desk lamp")
    product_create(sku="CHAIR-1", name="Office chair")
    product_create(sku="DESKTOP-9", name="Monitor stand")

    found = client.get("/api/products/", {"search": "desk"}).json()

    assert [p["sku"] for p in found["results"]] == ["DESKTOP-9", "LAMP-1"]


@pytest.mark.parametrize(
    "level, expected",
    [("in", ["PLENTY-1"]), ("low", ["FEW-1", "THRESHOLD-1"]), ("out", ["NONE-1"])],
)
def test_products_are_filtered_by_stock_level(client, level, expected):
    product_create(sku="PLENTY-1", available_quantity=50, low_stock_threshold=5)
    product_create(sku="THRESHOLD-1", available_quantity=5, low_stock_threshold=5)
    product_create(sku="FEW-1", available_quantity=1, low_stock_threshold=5)
    product_create(sku="NONE-1", available_quantity=0, low_stock_threshold=0)

    listed = client.get("/api/products/", {"stock": level}).json()["results"]

    assert [p["sku"] for p in listed] == expected
    assert {p["stock_level"] for p in listed} == {level}


@pytest.mark.parametrize("params", [{"stock": "plenty"}, {"search": "x" * 101}])
def test_a_bad_product_filter_is_a_field_error(client, params):
    response = client.get("/api/products/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


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


def test_a_duplicate_sku_is_409_and_bad_fields_are_400(client):
    product_create(sku="DUP-1")
    dup = client.post(
        "/api/products/", {"sku": "DUP-1", "name": "x", "unit_price": "1"}, format="json"
    )
    assert dup.status_code == 409 and dup.json()["extra"] == {"sku": "DUP-1"}
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


def test_a_duplicate_sku_that_passes_the_check_concurrently_is_409_not_500(client):
    product_create(sku="RACE-1")
    # The other request committed between this one's check and its insert.
    with mock.patch.object(QuerySet, "exists", return_value=False):
        response = client.post(
            "/api/products/", {"sku": "RACE-1", "name": "x", "unit_price": "1"}, format="json"
        )
    assert response.status_code == 409 and response.json()["extra"] == {"sku": "RACE-1"}
    assert Product.objects.filter(sku="RACE-1").count() == 1


def test_options_on_a_product_describes_it(client):
    product_create(sku="OPT-1")
    for api in (client, APIClient()):
        assert api.options("/api/products/OPT-1/").status_code == 200
        assert api.options("/api/products/OPT-1/restock/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "unit_price": "1.00", "low_stock_threshold": 1},
        {"name": "   ", "unit_price": "1.00", "low_stock_threshold": 1},
        {"name": "Only a name"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_put_needs_every_field_and_a_name(client, body, fmt):
    product = product_create(sku="PUT-1", name="Kept")
    if fmt == "json":
        response = client.put("/api/products/PUT-1/", body, format="json")
    else:
        response = client.put(
            "/api/products/PUT-1/", encode_multipart(BOUNDARY, body), content_type=MULTIPART_CONTENT
        )
    assert response.status_code == 400
    product.refresh_from_db()
    assert product.name == "Kept"


def test_form_encoded_put_with_an_empty_name_is_400(client):
    product = product_create(sku="FORM-1", name="Kept")
    response = client.put(
        "/api/products/FORM-1/",
        "name=&unit_price=1.00&low_stock_threshold=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "name" in response.json()
    product.refresh_from_db()
    assert product.name == "Kept"


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/products/", {**NEW, "name": "x" * 201}, "name"),
        ("/api/products/", {**NEW, "unit_price": "1" * 12}, "unit_price"),
        ("/api/products/", {**NEW, "available_quantity": 10**8}, "available_quantity"),
        ("/api/products/", {**NEW, "low_stock_threshold": 10**8}, "low_stock_threshold"),
        ("/api/products/", {**NEW, "low_stock_threshold": 2**70}, "low_stock_threshold"),
        ("/api/products/BOUND-1/", {"low_stock_threshold": 10**8}, "low_stock_threshold"),
        ("/api/products/BOUND-1/restock/", {"quantity": 10**8}, "quantity"),
    ],
)
def test_every_number_and_text_has_a_bound(client, path, body, field):
    product_create(sku="BOUND-1")
    method = client.patch if path == "/api/products/BOUND-1/" else client.post
    response = method(path, body, format="json")
    assert response.status_code == 400 and field in response.json()
