"""The Order HTTP API: validation, status codes and authentication."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.test import APIClient

from order_service.orders import reactions
from order_service.orders.apis import OrderLineOutputSerializer, OrderOutputSerializer
from order_service.orders.models import Order
from service_platform.api import OutputSerializer
from shared_events.contracts import ReservedLine
from shared_events.django.models import OutboxMessage
from tests.order_service.factories import order_create
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db

VALID = {"lines": [{"sku": "KEYBOARD-01", "quantity": 2}]}


@pytest.fixture
def client() -> APIClient:
    """Staff: every order, and shipping (tests/order_service/test_permissions.py walks who
    may do what)."""
    user = get_user_model().objects.create_user("alice", password="pw", is_staff=True)
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def customer() -> APIClient:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.create_user("carl", password="pw"))
    return api


def test_place_order_returns_201_pending_with_an_id(client):
    response = client.post("/api/orders/", VALID, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert Order.objects.filter(id=uuid.UUID(body["id"])).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "bad sku!", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "AB", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "AB", "quantity": -3}]}, "lines"),
        ({"lines": [{"sku": "AB", "quantity": 10**9}]}, "lines"),
        ({"lines": [{"sku": "AB", "quantity": 2**70}]}, "lines"),
        ({"lines": [{"sku": "AB", "quantity": 1}, {"sku": "AB", "quantity": 2}]}, "lines"),
        ({"lines": [{"sku": f"SKU-{n}", "quantity": 1} for n in range(101)]}, "lines"),
        ({**VALID, "shipping_address": "x" * 2001}, "shipping_address"),
        ({**VALID, "note": "x" * 2001}, "note"),
    ],
)
def test_invalid_orders_get_400_with_field_errors_and_nothing_is_written(client, payload, field):
    response = client.post("/api/orders/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_malformed_json_is_a_400(client):
    response = client.post("/api/orders/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Order.objects.exists()


def test_the_customer_is_the_account_and_a_customer_id_in_the_body_is_ignored():
    bob = get_user_model().objects.create_user("bob", password="secret-pw-1")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(bob.pk, username='bob')}")
    placed = api.post("/api/orders/", {**VALID, "customer_id": "someone-else"}, format="json")
    assert placed.status_code == 201
    assert placed.json()["customer_id"] == str(bob.pk)
    assert Order.objects.get().customer_id == str(bob.pk)


def test_basic_authentication_is_refused_outside_development():
    get_user_model().objects.create_user("bob", password="secret")
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic Ym9iOnNlY3JldA==")  # bob:secret
    response = basic.post("/api/orders/", VALID, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Order.objects.exists()


def test_a_new_order_is_answered_as_it_reads_back(client):
    placed = client.post(
        "/api/orders/",
        {"lines": [{"sku": "MOUSE-01", "quantity": 1}, *VALID["lines"]]},
        format="json",
    ).json()
    assert placed["lines"] == [
        {"sku": "MOUSE-01", "quantity": 1, "unit_price": None},
        {"sku": "KEYBOARD-01", "quantity": 2, "unit_price": None},
    ]
    assert client.get(f"/api/orders/{placed['id']}/").json() == placed


def _confirmed_order() -> Order:
    order = order_create()
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


def test_a_confirmed_order_reads_with_its_prices_as_decimal_strings(client):
    order = _confirmed_order()
    body = client.get(f"/api/orders/{order.id}/").json()
    assert body["status"] == "confirmed" and body["total_amount"] == "203.50"
    assert body["lines"] == [
        {"sku": "KEYBOARD-01", "quantity": 2, "unit_price": "89.00"},
        {"sku": "MOUSE-01", "quantity": 1, "unit_price": "25.50"},
    ]
    assert body["status_reason"] == "" and body["shipping_address"] == ""


def test_output_serializers_render_as_drf_would():
    order = _confirmed_order()
    line = order.lines.first()
    # DRF's own rendering: every declared field copied, bound and read through its source.
    drf = serializers.Serializer.to_representation
    assert OrderOutputSerializer(order).data == drf(OrderOutputSerializer(), order)
    assert OrderLineOutputSerializer(line).data == drf(OrderLineOutputSerializer(), line)


def test_output_serializers_take_only_read_only_fields_of_their_own_name():
    with pytest.raises(TypeError, match=r"Writable\.name"):

        class Writable(OutputSerializer):
            name = serializers.CharField()

    with pytest.raises(TypeError, match=r"Sourced\.name"):

        class Sourced(OutputSerializer):
            name = serializers.CharField(source="other", read_only=True)


def test_list_is_paginated_and_filters_by_status_and_customer(client):
    order_create(customer_id="c-1")
    order_create(customer_id="c-2")
    response = client.get("/api/orders/", {"customer_id": "c-2", "status": "pending"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["results"][0]["customer_id"] == "c-2"
    assert client.get("/api/orders/", {"status": "nonsense"}).status_code == 400


def test_page_size_and_depth_are_bounded(client):
    for _ in range(3):
        order_create()
    assert len(client.get("/api/orders/", {"page_size": 2}).json()["results"]) == 2
    assert len(client.get("/api/orders/", {"page_size": 10**6}).json()["results"]) == 3
    too_deep = client.get("/api/orders/", {"page": 10**6})
    assert too_deep.status_code == 400 and "page" in too_deep.json()


def test_cancel_is_202_and_shipping_a_pending_order_is_409(client):
    order = order_create()
    ship = client.post(f"/api/orders/{order.id}/ship/")
    assert ship.status_code == 409
    assert ship.json() == {
        "message": "Only confirmed orders can be shipped; this one is pending.",
        "extra": {"status": "pending"},
    }
    cancel = client.post(f"/api/orders/{order.id}/cancel/", {}, format="json")
    assert cancel.status_code == 202 and cancel.json()["status"] == "cancelling"


def test_patch_changes_note_and_unknown_orders_are_404(client):
    order = order_create()
    response = client.patch(f"/api/orders/{order.id}/", {"note": "leave at door"}, format="json")
    assert response.status_code == 200 and response.json()["note"] == "leave at door"
    assert client.get(f"/api/orders/{uuid.uuid4()}/").status_code == 404


def test_a_retry_with_the_same_idempotency_key_returns_the_original_order(client):
    first = client.post("/api/orders/", VALID, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = client.post("/api/orders/", VALID, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_idempotency_keys_are_per_customer(client, customer):
    mine = client.post("/api/orders/", VALID, format="json", HTTP_IDEMPOTENCY_KEY="key-3")
    theirs = customer.post("/api/orders/", VALID, format="json", HTTP_IDEMPOTENCY_KEY="key-3")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs
    assert Order.objects.count() == 2


def test_the_same_idempotency_key_with_another_body_is_a_422(client):
    client.post("/api/orders/", VALID, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    other = {**VALID, "note": "another body"}
    response = client.post("/api/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    assert response.status_code == 422
    assert "different request" in response.json()["message"]
    assert Order.objects.count() == 1


def test_options_on_every_order_route_describes_it(client, customer):
    order = order_create()
    for path in ("/api/orders/", f"/api/orders/{order.id}/", f"/api/orders/{order.id}/cancel/"):
        for api in (client, customer):
            assert api.options(path).status_code == 200


def test_an_api_path_no_route_matches_is_a_json_404(client):
    response = client.get("/api/orders/not-a-uuid/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}
