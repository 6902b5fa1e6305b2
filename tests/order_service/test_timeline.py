"""The saga timeline: every event the Order Service published and consumed for an order."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from order_service.orders import services
from order_service.orders.handlers import HANDLERS
from order_service.orders.models import Order
from shared_events.contracts import (
    ReservedLine,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.consuming import event_message_process
from shared_events.django.models import OutboxMessage
from tests.order_service.factories import order_create
from tests.support.messages import event_message

pytestmark = pytest.mark.django_db


def _published(order: Order, event_type: str) -> uuid.UUID:
    return (
        OutboxMessage.objects.filter(correlation_id=str(order.id), event_type=event_type)
        .latest("id")
        .event_id
    )


def _consume(payload, *, order: Order, caused_by: uuid.UUID) -> uuid.UUID:
    message, event_id = event_message(payload, correlation_id=str(order.id), causation_id=caused_by)
    assert event_message_process(message, handlers=HANDLERS) == "applied"
    return event_id


def _confirmed_order() -> tuple[Order, uuid.UUID, uuid.UUID]:
    order = order_create(lines=[services.OrderLineInput(sku="KEYBOARD-01", quantity=1)])
    created = _published(order, "OrderCreatedIntegrationEvent")
    reserved = _consume(
        StockReservedIntegrationEvent(
            order_id=order.id,
            total_amount=Decimal("89.00"),
            lines=(ReservedLine(sku="KEYBOARD-01", quantity=1, unit_price=Decimal("89.00")),),
        ),
        order=order,
        caused_by=created,
    )
    return order, created, reserved


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_user("staff", is_staff=True))
    return client


def test_the_timeline_of_a_confirmed_order_lists_each_event_with_its_cause(staff_client):
    # given an order placed, reserved by inventory, and confirmed
    order, created, reserved = _confirmed_order()

    # when
    response = staff_client.get(f"/api/orders/{order.id}/timeline/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "confirmed" and body["order_id"] == str(order.id)
    events = body["events"]
    assert [(e["direction"], e["event_type"]) for e in events] == [
        ("published", "OrderCreatedIntegrationEvent"),
        ("consumed", "StockReservedIntegrationEvent"),
        ("published", "OrderStatusChangedIntegrationEvent"),
    ]
    assert [e["event_id"] for e in events[:2]] == [str(created), str(reserved)]
    assert events[0]["causation_id"] is None
    assert events[1]["causation_id"] == str(created)
    assert events[1]["caused_by"] == "OrderCreatedIntegrationEvent"
    assert events[1]["producer"] == "inventory-service"
    assert events[2]["causation_id"] == str(reserved)
    assert events[2]["caused_by"] == "StockReservedIntegrationEvent"
    assert all(e["occurred_at"] and e["recorded_at"] for e in events)
    assert [e["occurred_at"] for e in events] == sorted(e["occurred_at"] for e in events)


def test_the_timeline_of_a_cancelled_order_covers_both_sagas(staff_client):
    # given a confirmed order that is cancelled, and inventory confirming the release
    order, _created, _reserved = _confirmed_order()
    services.order_cancel(order_id=order.id, reason="changed my mind")
    cancelled = _published(order, "OrderCancelledIntegrationEvent")
    released = _consume(
        StockLevelNormalizedIntegrationEvent(order_id=order.id), order=order, caused_by=cancelled
    )

    # when
    body = staff_client.get(f"/api/orders/{order.id}/timeline/").json()

    # then
    assert body["status"] == "cancelled"
    events = body["events"]
    assert [(e["direction"], e["event_type"]) for e in events] == [
        ("published", "OrderCreatedIntegrationEvent"),
        ("consumed", "StockReservedIntegrationEvent"),
        ("published", "OrderStatusChangedIntegrationEvent"),  # confirmed
        ("published", "OrderStatusChangedIntegrationEvent"),  # cancelling
        ("published", "OrderCancelledIntegrationEvent"),
        ("consumed", "StockLevelNormalizedIntegrationEvent"),
        ("published", "OrderStatusChangedIntegrationEvent"),  # cancelled
    ]
    assert events[5]["event_id"] == str(released)
    assert events[5]["causation_id"] == str(cancelled)
    assert events[6]["causation_id"] == str(released)
    assert {e["status"] for e in events if e["direction"] == "published"} == {"pending"}


def test_an_unknown_order_has_no_timeline(staff_client):
    assert staff_client.get(f"/api/orders/{uuid.uuid4()}/timeline/").status_code == 404


def test_the_admin_shows_the_timeline_on_the_order_page(client):
    order, created, reserved = _confirmed_order()
    admin = get_user_model().objects.create_superuser("admin", password="admin-password")
    client.force_login(admin)

    page = client.get(f"/admin/orders/order/{order.id}/change/").content.decode()

    assert "saga timeline" in page.lower()
    for event_id in (created, reserved):
        assert str(event_id) in page
    assert "StockReservedIntegrationEvent" in page
