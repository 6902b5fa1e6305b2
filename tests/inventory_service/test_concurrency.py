"""Many concurrent reservations for one SKU never oversell (real PostgreSQL, real threads)."""

import contextlib
import threading
import uuid

import pytest
from django.db import connection

from inventory_service.stock import reactions
from inventory_service.stock.handlers import HANDLERS
from inventory_service.stock.models import Product, Reservation, ReservationStatus
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
)
from shared_events.django.inbox import event_apply, events_apply
from tests.inventory_service.factories import event, product_create


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_for_one_sku_reserve_exactly_the_stock():
    # given 10 units, and a second product so that orders lock rows in both orders
    hot = product_create(sku="HOT-1", available_quantity=10)
    other = product_create(sku="ALSO-1", available_quantity=1000)
    orders = [uuid.uuid4() for _ in range(40)]
    errors: list[BaseException] = []

    def place(order_id: uuid.UUID, index: int) -> None:
        lines = [OrderLine(sku=hot.sku, quantity=1), OrderLine(sku=other.sku, quantity=1)]
        if index % 2:
            lines.reverse()  # the service must lock in SKU order whatever the input order
        payload = OrderCreatedIntegrationEvent(
            order_id=order_id, customer_id="c", lines=tuple(lines)
        )
        try:
            event_apply(event(payload), HANDLERS)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when 40 threads reserve at once
    threads = [threading.Thread(target=place, args=(o, i)) for i, o in enumerate(orders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then exactly 10 succeed and nothing went negative or deadlocked
    assert errors == []
    hot.refresh_from_db()
    assert (hot.available_quantity, hot.reserved_quantity) == (0, 10)
    statuses = list(Reservation.objects.values_list("status", flat=True))
    assert statuses.count(ReservationStatus.RESERVED) == 10
    assert statuses.count(ReservationStatus.REJECTED) == 30
    assert Product.objects.get(sku=other.sku).reserved_quantity == 10


@pytest.mark.django_db(transaction=True)
def test_two_batches_crossing_over_the_same_products_do_not_deadlock(monkeypatch):
    # given two products and two consumers' batches that reach them in opposite orders,
    # each with a cancellation in the middle where both pause until the other got there
    x = product_create(sku="CROSS-X", available_quantity=10)
    y = product_create(sku="CROSS-Y", available_quantity=10)
    halfway = threading.Barrier(2)
    release = reactions.stock_release

    def release_when_both_are_halfway(**kwargs):
        # When the other batch is waiting for this one's locks instead, nobody comes: go on.
        with contextlib.suppress(threading.BrokenBarrierError):
            halfway.wait(timeout=2)
        return release(**kwargs)

    monkeypatch.setattr(reactions, "stock_release", release_when_both_are_halfway)

    def created(sku: str) -> OrderCreatedIntegrationEvent:
        return OrderCreatedIntegrationEvent(
            order_id=uuid.uuid4(), customer_id="c", lines=(OrderLine(sku=sku, quantity=1),)
        )

    batches = [
        [created(y.sku), OrderCancelledIntegrationEvent(order_id=uuid.uuid4()), created(x.sku)],
        [created(x.sku), OrderCancelledIntegrationEvent(order_id=uuid.uuid4()), created(y.sku)],
    ]
    errors: list[BaseException] = []

    def apply(payloads: list) -> None:
        try:
            events_apply([event(p) for p in payloads], HANDLERS)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when both are applied at once
    threads = [threading.Thread(target=apply, args=(batch,)) for batch in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    # then neither deadlocked, and both reserved their orders
    assert errors == []
    assert Reservation.objects.filter(status=ReservationStatus.RESERVED).count() == 4
    for product in (x, y):
        product.refresh_from_db()
        assert (product.available_quantity, product.reserved_quantity) == (8, 2)
