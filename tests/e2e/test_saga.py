"""The whole saga over HTTP and Kafka, against the real processes started by `up`."""

import json
import os
import signal
import uuid

import pytest

from tests.support.kafka import header, produce_raw, read_topic

FINAL = {"confirmed", "rejected", "cancelled", "shipped"}


@pytest.fixture
def product(inventory):
    def create(quantity: int = 10, price: str = "12.50", threshold: int = 2) -> str:
        sku = f"E2E-{uuid.uuid4().hex[:10].upper()}"
        response = inventory.post(
            "/api/products/",
            {
                "sku": sku,
                "name": "e2e product",
                "unit_price": price,
                "available_quantity": quantity,
                "low_stock_threshold": threshold,
            },
        )
        assert response.status_code == 201, response.text
        return sku

    return create


def _place(orders, *lines: tuple[str, int]) -> dict:
    response = orders.post(
        "/api/orders/",
        {"lines": [{"sku": sku, "quantity": q} for sku, q in lines]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    return body


def _settled(orders, order_id: str, status: str) -> dict:
    return orders.wait_for(
        f"/api/orders/{order_id}/",
        lambda b: b["status"] not in ("pending", "cancelling") or b["status"] == status,
    )


def test_order_is_confirmed_with_its_total_and_stock_is_reserved(orders, inventory, product):
    sku = product(quantity=10, price="12.50")
    order = _place(orders, (sku, 3))
    settled = _settled(orders, order["id"], "confirmed")
    assert settled["status"] == "confirmed"
    assert settled["total_amount"] == "37.50"
    assert settled["lines"] == [{"sku": sku, "quantity": 3, "unit_price": "12.50"}]
    stock = inventory.get(f"/api/products/{sku}/").json()
    assert (stock["available_quantity"], stock["reserved_quantity"]) == (7, 3)


@pytest.mark.parametrize("case", ["insufficient", "unknown"])
def test_order_is_rejected_with_a_reason(orders, inventory, product, case):
    sku = product(quantity=2)
    lines = [(sku, 5)] if case == "insufficient" else [(sku, 1), ("NO-SUCH-SKU", 1)]
    order = _place(orders, *lines)
    settled = _settled(orders, order["id"], "rejected")
    assert settled["status"] == "rejected"
    expected = "Insufficient stock" if case == "insufficient" else "Unknown SKU NO-SUCH-SKU"
    assert expected in settled["status_reason"]
    assert inventory.get(f"/api/products/{sku}/").json()["available_quantity"] == 2


def test_cancel_releases_stock_then_the_order_is_cancelled(orders, inventory, product):
    sku = product(quantity=10)
    order = _place(orders, (sku, 4))
    _settled(orders, order["id"], "confirmed")

    response = orders.post(f"/api/orders/{order['id']}/cancel/", {"reason": "no longer needed"})

    assert response.status_code == 202 and response.json()["status"] == "cancelling"
    cancelled = orders.wait_for(f"/api/orders/{order['id']}/", lambda b: b["status"] == "cancelled")
    assert cancelled["status_reason"] == "no longer needed"
    stock = inventory.get(f"/api/products/{sku}/").json()
    assert (stock["available_quantity"], stock["reserved_quantity"]) == (10, 0)


def test_shipping_sells_the_reservation_and_a_shipped_order_cannot_be_cancelled(
    orders, inventory, product
):
    sku = product(quantity=10)
    order = _place(orders, (sku, 2))
    _settled(orders, order["id"], "confirmed")

    shipped = orders.post(f"/api/orders/{order['id']}/ship/")

    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    inventory.wait_for(f"/api/products/{sku}/", lambda b: b["sold_quantity"] == 2)
    stock = inventory.get(f"/api/products/{sku}/").json()
    assert (stock["available_quantity"], stock["reserved_quantity"]) == (8, 0)
    assert orders.post(f"/api/orders/{order['id']}/cancel/").status_code == 409


def test_the_saga_events_are_on_the_topics_with_keys_headers_and_causation(stack, orders, product):
    sku = product(quantity=10)
    order = _place(orders, (sku, 1))
    order_id = order["id"]
    _settled(orders, order_id, "confirmed")

    def for_order(messages):
        return [m for m in messages if m.key() == order_id.encode()]

    order_events = for_order(
        read_topic(
            stack.kafka, stack.topic("order-events"), until=lambda ms: len(for_order(ms)) >= 1
        )
    )
    inventory_events = for_order(
        read_topic(
            stack.kafka, stack.topic("inventory-events"), until=lambda ms: len(for_order(ms)) >= 1
        )
    )
    [created] = [json.loads(m.value()) for m in order_events]
    [reserved] = [json.loads(m.value()) for m in inventory_events]
    assert created["event_type"] == "OrderCreatedIntegrationEvent"
    assert created["producer"] == "order-service" and created["correlation_id"] == order_id
    assert reserved["event_type"] == "StockReservedIntegrationEvent"
    assert reserved["causation_id"] == created["event_id"]
    assert reserved["correlation_id"] == order_id
    assert header(inventory_events[0], "event_type") == "StockReservedIntegrationEvent"
    assert header(inventory_events[0], "event_version") == "1"

    confirmed = for_order(
        read_topic(
            stack.kafka, stack.topic("order-events"), until=lambda ms: len(for_order(ms)) >= 2
        )
    )
    status_changed = json.loads(confirmed[1].value())
    assert status_changed["event_type"] == "OrderStatusChangedIntegrationEvent"
    assert status_changed["payload"]["new_status"] == "confirmed"
    assert status_changed["causation_id"] == reserved["event_id"]


def test_low_stock_events_are_published_keyed_by_sku(stack, orders, inventory, product):
    sku = product(quantity=3, threshold=1)
    _settled(orders, _place(orders, (sku, 3))["id"], "confirmed")  # 3 -> 0
    inventory.post(f"/api/products/{sku}/restock/", {"quantity": 5})  # 0 -> 5

    def for_sku(messages):
        return [json.loads(m.value())["event_type"] for m in messages if m.key() == sku.encode()]

    types = for_sku(
        read_topic(
            stack.kafka, stack.topic("inventory-events"), until=lambda ms: len(for_sku(ms)) >= 3
        )
    )
    assert types == [
        "StockLevelWarningIntegrationEvent",
        "StockDepletedIntegrationEvent",
        "StockLevelNormalizedIntegrationEvent",
    ]


def test_a_poison_message_is_dead_lettered_and_the_consumer_keeps_going(stack, orders, product):
    # given garbage on the topic the inventory consumer reads
    marker = uuid.uuid4().hex.encode()
    produce_raw(stack.kafka, stack.topic("order-events"), b"{not an event " + marker, key=marker)

    # then it lands on the dead-letter topic with the reasons in its headers
    [dead] = [
        m
        for m in read_topic(
            stack.kafka,
            stack.topic("order-events.dlq"),
            until=lambda ms: any(m.key() == marker for m in ms),
        )
        if m.key() == marker
    ]
    assert marker in dead.value()
    assert header(dead, "dlq.error.class") == "EventDecodeError"
    assert header(dead, "dlq.consumer.group") == f"{stack.namespace}inventory-service"
    assert header(dead, "dlq.original.topic") == stack.topic("order-events")
    assert header(dead, "dlq.original.offset") is not None

    # and orders are still served
    sku = product(quantity=1)
    assert _settled(orders, _place(orders, (sku, 1))["id"], "confirmed")["status"] == "confirmed"


def test_the_supervisor_restarts_a_killed_consumer_and_nothing_is_lost(stack, orders, product):
    def pid() -> int:
        return stack.pid("apps:inventory-consumer")

    old = pid()
    os.kill(old, signal.SIGKILL)
    sku = product(quantity=5)
    order = _place(orders, (sku, 1))  # placed while the consumer is down

    assert _settled(orders, order["id"], "confirmed")["status"] == "confirmed"
    assert pid() not in (0, old)


def test_every_order_placed_in_this_run_ended_final(orders):
    # Runs last in this module: nothing was left half-way by the tests above.
    body = orders.get("/api/orders/", params={"status": "pending"}).json()
    assert body["count"] == 0, body["results"]
    assert orders.get("/api/orders/", params={"status": "cancelling"}).json()["count"] == 0
