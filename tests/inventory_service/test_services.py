"""Reserving, releasing, selling and restocking stock, on the real database."""

import dataclasses
import json
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from inventory_service.stock import services
from inventory_service.stock.handlers import HANDLERS
from inventory_service.stock.models import Product, Reservation, ReservationStatus
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.django.inbox import Handler, event_apply, events_apply
from shared_events.django.models import OutboxMessage, ProcessedEvent
from tests.inventory_service.factories import event, product_create

pytestmark = pytest.mark.django_db


def _created(order_id: uuid.UUID, *lines: tuple[str, int]) -> OrderCreatedIntegrationEvent:
    return OrderCreatedIntegrationEvent(
        order_id=order_id,
        customer_id="c",
        lines=tuple(OrderLine(sku=sku, quantity=q) for sku, q in lines),
    )


def _apply(payload, event_id=None) -> bool:
    return event_apply(event(payload, event_id=event_id), HANDLERS)


def _cancelling(order_id: uuid.UUID) -> OrderStatusChangedIntegrationEvent:
    """The Order Service's announcement that precedes its OrderCancelled."""
    return OrderStatusChangedIntegrationEvent(
        order_id=order_id, old_status="confirmed", new_status="cancelling"
    )


def _published(**filters) -> list[tuple[str, dict]]:
    rows = OutboxMessage.objects.filter(**filters).order_by("id")
    return [(r.event_type, json.loads(r.body)["payload"]) for r in rows]


def _stock(sku: str) -> tuple[int, int, int]:
    p = Product.objects.get(sku=sku)
    return p.available_quantity, p.reserved_quantity, p.sold_quantity


def test_reserving_takes_every_line_and_publishes_prices_and_total():
    a = product_create(unit_price=Decimal("2.50"), available_quantity=10)
    b = product_create(unit_price=Decimal("4.00"), available_quantity=5)
    order_id = uuid.uuid4()

    _apply(_created(order_id, (a.sku, 2), (b.sku, 1)))

    assert _stock(a.sku) == (8, 2, 0) and _stock(b.sku) == (4, 1, 0)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.RESERVED
    [(_, payload)] = _published(
        correlation_id=str(order_id), event_type="StockReservedIntegrationEvent"
    )
    assert payload["total_amount"] == "9.00"
    assert {l["sku"]: l["unit_price"] for l in payload["lines"]} == {a.sku: "2.50", b.sku: "4.00"}


def test_reservation_is_all_or_nothing():
    plenty = product_create(available_quantity=10)
    scarce = product_create(available_quantity=1)
    order_id = uuid.uuid4()

    _apply(_created(order_id, (plenty.sku, 3), (scarce.sku, 2)))

    assert _stock(plenty.sku) == (10, 0, 0) and _stock(scarce.sku) == (1, 0, 0)
    [(event_type, payload)] = _published(correlation_id=str(order_id))
    assert event_type == "ReservationFailedIntegrationEvent"
    assert payload["reason_code"] == "insufficient_stock" and payload["sku"] == scarce.sku
    assert "2 requested, 1 available" in payload["reason"]


def test_unknown_sku_fails_the_reservation_with_its_reason():
    known = product_create()
    order_id = uuid.uuid4()
    _apply(_created(order_id, (known.sku, 1), ("NOPE-404", 1)))
    [(_, payload)] = _published(correlation_id=str(order_id))
    assert payload["reason_code"] == "unknown_sku" and payload["sku"] == "NOPE-404"
    assert _stock(known.sku) == (10, 0, 0)


def test_a_redelivered_order_created_reserves_once():
    product = product_create(available_quantity=10)
    order_id, event_id = uuid.uuid4(), uuid.uuid4()
    assert _apply(_created(order_id, (product.sku, 4)), event_id) is True
    assert _apply(_created(order_id, (product.sku, 4)), event_id) is False
    # even a second OrderCreated with a new event id finds the reservation and does nothing
    _apply(_created(order_id, (product.sku, 4)))
    assert _stock(product.sku) == (6, 4, 0)


def test_cancel_releases_stock_and_confirms_with_the_order_id():
    product = product_create(available_quantity=10, low_stock_threshold=3)
    order_id = uuid.uuid4()
    _apply(_created(order_id, (product.sku, 8)))

    _apply(_cancelling(order_id))
    _apply(OrderCancelledIntegrationEvent(order_id=order_id))

    assert _stock(product.sku) == (10, 0, 0)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.RELEASED
    confirmations = [
        p
        for t, p in _published(correlation_id=str(order_id))
        if t == "StockLevelNormalizedIntegrationEvent" and p["order_id"]
    ]
    assert confirmations == [
        {
            "order_id": str(order_id),
            "levels": [{"sku": product.sku, "available_quantity": 10, "low_stock_threshold": 3}],
        }
    ]


def test_cancel_before_create_is_confirmed_and_remembered():
    product = product_create(available_quantity=10)
    order_id = uuid.uuid4()

    _apply(OrderCancelledIntegrationEvent(order_id=order_id))
    _apply(_created(order_id, (product.sku, 2)))  # arrives late

    assert _stock(product.sku) == (10, 0, 0)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.CANCELLED
    assert [t for t, _ in _published(correlation_id=str(order_id))] == [
        "StockLevelNormalizedIntegrationEvent"
    ]


def test_shipping_turns_the_reservation_into_a_sale():
    product = product_create(available_quantity=10)
    order_id = uuid.uuid4()
    _apply(_created(order_id, (product.sku, 3)))
    _apply(
        OrderStatusChangedIntegrationEvent(
            order_id=order_id, old_status="confirmed", new_status="shipped"
        )
    )
    assert _stock(product.sku) == (7, 0, 3)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.SOLD
    # a cancellation after shipping releases nothing
    _apply(OrderCancelledIntegrationEvent(order_id=order_id))
    assert _stock(product.sku) == (7, 0, 3)


def test_stock_level_events_on_crossing_the_threshold_and_zero():
    product = product_create(available_quantity=5, low_stock_threshold=3)
    sku = product.sku

    _apply(_created(uuid.uuid4(), (sku, 2)))  # 5 -> 3: at threshold
    _apply(_created(uuid.uuid4(), (sku, 3)))  # 3 -> 0: depleted
    services.product_restock(sku=sku, quantity=10)  # 0 -> 10: back above

    levels = [
        (t, p)
        for t, p in _published()
        if t != "StockReservedIntegrationEvent"
        and not (t == "StockLevelNormalizedIntegrationEvent" and p.get("order_id"))
    ]
    assert levels == [
        (
            "StockLevelWarningIntegrationEvent",
            {"sku": sku, "available_quantity": 3, "low_stock_threshold": 3},
        ),
        ("StockDepletedIntegrationEvent", {"sku": sku}),
        (
            "StockLevelNormalizedIntegrationEvent",
            {
                "order_id": None,
                "levels": [{"sku": sku, "available_quantity": 10, "low_stock_threshold": 3}],
            },
        ),
    ]
    row = OutboxMessage.objects.filter(event_type="StockDepletedIntegrationEvent").get()
    assert row.message_key == sku


def test_restock_counts_as_received_stock():
    product = product_create(available_quantity=4)
    services.product_restock(sku=product.sku, quantity=6)
    product.refresh_from_db()
    assert (product.available_quantity, product.received_quantity) == (10, 10)


def test_the_database_refuses_negative_or_unbalanced_stock():
    product = product_create(available_quantity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(sku=product.sku).update(available_quantity=-1, received_quantity=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(sku=product.sku).update(available_quantity=5)


def test_asking_again_repeats_the_answer_without_reserving_twice():
    product = product_create(available_quantity=5, low_stock_threshold=0)
    reserved_order, rejected_order = uuid.uuid4(), uuid.uuid4()
    _apply(_created(reserved_order, (product.sku, 2)))
    _apply(_created(rejected_order, (product.sku, 50)))

    # when the order service re-asks (a new event: its earlier answer was not seen)
    _apply(_created(reserved_order, (product.sku, 2)))
    _apply(_created(rejected_order, (product.sku, 50)))

    # then the same answers are published again and stock moved once
    assert _stock(product.sku) == (3, 2, 0)
    assert [t for t, _ in _published(correlation_id=str(reserved_order))] == [
        "StockReservedIntegrationEvent",
        "StockReservedIntegrationEvent",
    ]
    answers = _published(correlation_id=str(rejected_order))
    assert [t for t, _ in answers] == ["ReservationFailedIntegrationEvent"] * 2
    assert answers[0][1] == answers[1][1]


def test_a_repeated_cancellation_is_confirmed_again_and_releases_once():
    product = product_create(available_quantity=5)
    order_id = uuid.uuid4()
    _apply(_created(order_id, (product.sku, 2)))
    _apply(_cancelling(order_id))
    _apply(OrderCancelledIntegrationEvent(order_id=order_id))
    _apply(OrderCancelledIntegrationEvent(order_id=order_id))
    assert _stock(product.sku) == (5, 0, 0)
    confirmations = [
        p
        for t, p in _published(correlation_id=str(order_id))
        if t == "StockLevelNormalizedIntegrationEvent" and p["order_id"]
    ]
    assert len(confirmations) == 2


def _apply_batch(*payloads, event_ids=None) -> list[str]:
    ids = event_ids or [None] * len(payloads)
    return events_apply(
        [event(p, event_id=i) for p, i in zip(payloads, ids, strict=True)], HANDLERS
    )


def test_a_batch_reserves_first_come_first_served_as_one_by_one_would():
    # given 5 units and three orders for 2 each, a cancellation between them, in one batch
    product = product_create(available_quantity=5, low_stock_threshold=1)
    first, second, third, cancelled = (uuid.uuid4() for _ in range(4))

    # when they are applied in one transaction
    outcomes = _apply_batch(
        _created(first, (product.sku, 2)),
        _created(second, (product.sku, 2)),
        OrderCancelledIntegrationEvent(order_id=cancelled),
        _created(third, (product.sku, 2)),
        _created(cancelled, (product.sku, 1)),
    )

    # then each order is decided in turn against what the earlier ones left
    assert outcomes == ["applied"] * 5
    assert _stock(product.sku) == (1, 4, 0)
    statuses = dict(Reservation.objects.values_list("order_id", "status"))
    assert statuses == {
        first: ReservationStatus.RESERVED,
        second: ReservationStatus.RESERVED,
        third: ReservationStatus.REJECTED,
        cancelled: ReservationStatus.CANCELLED,  # the late OrderCreated reserved nothing
    }
    [(_, refusal)] = _published(correlation_id=str(third))
    assert refusal["reason"] == f"Insufficient stock for {product.sku}: 2 requested, 1 available."
    assert [t for t, _ in _published(correlation_id=str(second))] == [
        "StockReservedIntegrationEvent",
        "StockLevelWarningIntegrationEvent",  # 3 -> 1, at the threshold
    ]


def test_a_batch_applies_a_repeated_event_once_and_answers_a_repeated_question_again():
    product = product_create(available_quantity=5, low_stock_threshold=0)
    order_id, event_id = uuid.uuid4(), uuid.uuid4()
    created = _created(order_id, (product.sku, 2))

    outcomes = _apply_batch(created, created, created, event_ids=[event_id, event_id, None])

    # the redelivered copy is a duplicate; the re-ask (a new event id) is answered again
    assert outcomes == ["applied", "duplicate", "applied"]
    assert _stock(product.sku) == (3, 2, 0)
    assert [t for t, _ in _published(correlation_id=str(order_id))] == [
        "StockReservedIntegrationEvent"
    ] * 2


def test_a_refused_order_in_a_batch_takes_back_only_its_own_lines():
    a = product_create(available_quantity=5, low_stock_threshold=0)
    b = product_create(available_quantity=1, low_stock_threshold=0)
    greedy, modest = uuid.uuid4(), uuid.uuid4()

    _apply_batch(_created(greedy, (a.sku, 3), (b.sku, 2)), _created(modest, (a.sku, 5)))

    assert Reservation.objects.get(order_id=greedy).status == ReservationStatus.REJECTED
    assert Reservation.objects.get(order_id=modest).status == ReservationStatus.RESERVED
    assert _stock(a.sku) == (0, 5, 0) and _stock(b.sku) == (1, 0, 0)


def test_a_failing_batch_applies_and_records_nothing():
    product = product_create(available_quantity=5)
    order_id = uuid.uuid4()
    poisoned = dataclasses.replace(
        HANDLERS,
        by_type={
            **HANDLERS.by_type,
            OrderCancelledIntegrationEvent: Handler(lambda events: 1 / 0, batched=False),
        },
    )

    with pytest.raises(ZeroDivisionError):
        events_apply(
            [
                event(_created(order_id, (product.sku, 2))),
                event(OrderCancelledIntegrationEvent(order_id=uuid.uuid4())),
            ],
            poisoned,
        )

    assert _stock(product.sku) == (5, 0, 0)
    assert not Reservation.objects.exists()
    assert not ProcessedEvent.objects.exists()
    assert not OutboxMessage.objects.filter(correlation_id=str(order_id)).exists()
