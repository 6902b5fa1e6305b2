"""Order use cases and the inventory events that move them, on the real database."""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from order_service.orders import services, sweeper
from order_service.orders.handlers import HANDLERS
from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus
from service_platform.api import ConflictError
from shared_events.contracts import (
    ReservationFailedIntegrationEvent,
    ReservedLine,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.inbox import event_apply, events_apply
from shared_events.django.models import OutboxMessage, ProcessedEvent
from tests.order_service.factories import event, order_create

pytestmark = pytest.mark.django_db


def _events_for(order: Order) -> list[tuple[str, dict]]:
    rows = OutboxMessage.objects.filter(correlation_id=str(order.id)).order_by("id")
    return [(r.event_type, json.loads(r.body)["payload"]) for r in rows]


def _reserved(order: Order) -> StockReservedIntegrationEvent:
    return StockReservedIntegrationEvent(
        order_id=order.id,
        total_amount=Decimal("203.50"),
        lines=(
            ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("89.00")),
            ReservedLine(sku="MOUSE-01", quantity=1, unit_price=Decimal("25.50")),
        ),
    )


def _apply(payload, event_id=None) -> bool:
    return event_apply(event(payload, event_id=event_id), HANDLERS)


def test_creating_an_order_writes_it_and_its_event_together():
    order = order_create()
    assert order.status == OrderStatus.PENDING
    [(event_type, payload)] = _events_for(order)
    assert event_type == "OrderCreatedIntegrationEvent"
    assert payload["lines"] == [
        {"sku": "KEYBOARD-01", "quantity": 2},
        {"sku": "MOUSE-01", "quantity": 1},
    ]
    row = OutboxMessage.objects.get(correlation_id=str(order.id))
    assert row.message_key == str(order.id) and row.published_at is None


def test_a_new_order_is_returned_as_it_was_written(django_assert_num_queries):
    order = services.order_create(
        customer_id="c-9",
        lines=[services.OrderLineInput("MOUSE-01", 1), services.OrderLineInput("PAD-01", 3)],
        shipping_address="1 Main St",
        idempotency_key="key-1",
        request_fingerprint="f" * 64,
    )
    stored = Order.objects.get(id=order.id)
    fields = [field.attname for field in Order._meta.concrete_fields]
    assert [getattr(order, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert order.created_at == order.updated_at and not order._state.adding
    with django_assert_num_queries(0):
        lines = [(line.id, line.sku, line.quantity, line.unit_price) for line in order.lines.all()]
    assert lines == [(l.id, l.sku, l.quantity, None) for l in stored.lines.order_by("id")]
    assert [sku for _, sku, _, _ in lines] == ["MOUSE-01", "PAD-01"]


def test_stock_reserved_confirms_with_prices_and_total():
    order = order_create()
    assert _apply(_reserved(order))
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.total_amount == Decimal("203.50")
    assert {l.sku: l.unit_price for l in order.lines.all()} == {
        "KEYBOARD-01": Decimal("89.00"),
        "MOUSE-01": Decimal("25.50"),
    }
    assert _events_for(order)[-1] == (
        "OrderStatusChangedIntegrationEvent",
        {
            "order_id": str(order.id),
            "old_status": "pending",
            "new_status": "confirmed",
            "reason": "",
        },
    )


def test_a_redelivered_event_has_no_second_effect():
    order = order_create()
    event_id = uuid.uuid4()
    assert _apply(_reserved(order), event_id) is True
    assert _apply(_reserved(order), event_id) is False
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 1
    assert len(_events_for(order)) == 2  # created + one status change


def test_reservation_failed_rejects_with_the_reason():
    order = order_create()
    _apply(
        ReservationFailedIntegrationEvent(
            order_id=order.id,
            reason_code="insufficient_stock",
            reason="Insufficient stock for MOUSE-01",
        )
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.status_reason == "Insufficient stock for MOUSE-01"


def test_cancel_then_release_confirmation_cancels():
    order = order_create()
    _apply(_reserved(order))
    services.order_cancel(order_id=order.id, reason="changed my mind")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLING
    assert [t for t, _ in _events_for(order)][-2:] == [
        "OrderStatusChangedIntegrationEvent",
        "OrderCancelledIntegrationEvent",
    ]

    _apply(StockLevelNormalizedIntegrationEvent(order_id=order.id))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_stock_reserved_arriving_after_cancel_is_ignored():
    order = order_create()
    services.order_cancel(order_id=order.id)
    _apply(_reserved(order))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLING
    assert order.total_amount is None


def test_cancelling_twice_is_harmless_and_publishes_once():
    order = order_create()
    services.order_cancel(order_id=order.id)
    services.order_cancel(order_id=order.id)
    cancelled = [t for t, _ in _events_for(order) if t == "OrderCancelledIntegrationEvent"]
    assert len(cancelled) == 1


def test_shipping_needs_a_confirmed_order_and_a_shipped_one_cannot_be_cancelled():
    order = order_create()
    with pytest.raises(ConflictError):
        services.order_ship(order_id=order.id)
    _apply(_reserved(order))
    services.order_ship(order_id=order.id)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    with pytest.raises(ConflictError, match="shipped"):
        services.order_cancel(order_id=order.id)


def test_non_saga_fields_change_until_the_order_is_final():
    order = order_create()
    services.order_update(order_id=order.id, shipping_address="1 Main St", note="ring twice")
    order.refresh_from_db()
    assert (order.shipping_address, order.note) == ("1 Main St", "ring twice")
    _apply(
        ReservationFailedIntegrationEvent(
            order_id=order.id, reason_code="unknown_sku", reason="Unknown SKU"
        )
    )
    with pytest.raises(ConflictError):
        services.order_update(order_id=order.id, note="too late")


def test_events_for_unknown_orders_are_recorded_and_ignored():
    assert _apply(StockLevelNormalizedIntegrationEvent(order_id=uuid.uuid4())) is True


def test_a_stuck_pending_order_is_asked_about_again_then_cancelled_with_a_reason():
    order = order_create()
    timeout = timedelta(seconds=30)

    def time_passes() -> None:
        Order.objects.filter(id=order.id).update(updated_at=timezone.now() - timeout * 2)

    # when inventory never answers, the question is re-sent max_retries times
    for _ in range(2):
        time_passes()
        assert sweeper.orders_settle_stuck(timeout=timeout, max_retries=2)["reasked"] == 1
    assert [t for t, _ in _events_for(order)].count("OrderCreatedIntegrationEvent") == 3

    # then the order is cancelled with a reason, which releases whatever inventory holds
    time_passes()
    assert sweeper.orders_settle_stuck(timeout=timeout, max_retries=2)["timed_out"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLING
    assert "did not answer" in order.status_reason
    assert _events_for(order)[-1][0] == "OrderCancelledIntegrationEvent"

    # and a cancellation with no confirmation is re-sent until inventory confirms
    time_passes()
    assert sweeper.orders_settle_stuck(timeout=timeout, max_retries=2)["recancelled"] == 1
    _apply(StockLevelNormalizedIntegrationEvent(order_id=order.id))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    time_passes()
    assert sweeper.orders_settle_stuck(timeout=timeout, max_retries=2) == {
        "reasked": 0,
        "timed_out": 0,
        "recancelled": 0,
    }


def test_orders_within_the_timeout_are_left_alone():
    order_create()
    result = sweeper.orders_settle_stuck(timeout=timedelta(minutes=5), max_retries=2)
    assert result == {"reasked": 0, "timed_out": 0, "recancelled": 0}


def test_a_batch_confirms_each_pending_order_once_and_ignores_what_no_longer_applies():
    # given two pending orders and one the customer is cancelling
    first, second, cancelling = order_create(), order_create(), order_create()
    services.order_cancel(order_id=cancelling.id)

    # when one batch brings their reservations, a re-sent answer and an unknown order's
    outcomes = events_apply(
        [
            event(_reserved(first)),
            event(_reserved(cancelling)),
            event(_reserved(second)),
            event(_reserved(first)),  # inventory answered a re-asked question again
            event(_reserved(Order(id=uuid.uuid4()))),
        ],
        HANDLERS,
    )

    # then the pending ones are confirmed at the reserved prices, each announced once
    assert outcomes == ["applied"] * 5
    for order in (first, second):
        order.refresh_from_db()
        assert (order.status, order.total_amount) == (OrderStatus.CONFIRMED, Decimal("203.50"))
        assert {l.sku: l.unit_price for l in order.lines.all()} == {
            "KEYBOARD-01": Decimal("89.00"),
            "MOUSE-01": Decimal("25.50"),
        }
        changes = [p["new_status"] for t, p in _events_for(order) if "StatusChanged" in t]
        assert changes == ["confirmed"]
    cancelling.refresh_from_db()
    assert cancelling.status == OrderStatus.CANCELLING and cancelling.total_amount is None
