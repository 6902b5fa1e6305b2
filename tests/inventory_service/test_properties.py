"""Property: any delivery order of the order events, with duplicates, keeps stock right.

Generated orders are created, maybe cancelled or shipped; their events are delivered
interleaved across orders, duplicated (same event id) and partly out of order (a
cancellation may overtake its order's creation). Whatever the sequence, stock is
conserved, nothing is negative, what is reserved or sold matches the reservations,
a cancelled order holds nothing, and duplicates change nothing. Applied in batches of any
size (one transaction each, as the consumer does), the same sequence ends exactly as it
does one event at a time.
"""

import itertools
import json
import uuid
from collections import Counter

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_service.stock.handlers import HANDLERS
from inventory_service.stock.models import (
    Product,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.django.inbox import event_apply, events_apply
from shared_events.django.models import OutboxMessage
from tests.inventory_service.factories import event, product_create

SKUS = ["PROP-A", "PROP-B", "PROP-C"]

order_plans = st.lists(
    st.fixed_dictionaries(
        {
            "lines": st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1),
            "fate": st.sampled_from(["kept", "cancelled", "shipped"]),
            "cancel_overtakes": st.booleans(),
        }
    ),
    min_size=1,
    max_size=8,
)


def _deliveries(plans, data):
    """Per-order event lists (one event id each), interleaved and duplicated."""
    per_order = []
    for plan in plans:
        order_id = uuid.uuid4()
        created = OrderCreatedIntegrationEvent(
            order_id=order_id,
            customer_id="c",
            lines=tuple(OrderLine(sku=s, quantity=q) for s, q in sorted(plan["lines"].items())),
        )
        events = [event(created)]
        if plan["fate"] == "cancelled":
            # the Order Service announces the cancellation, then asks for the release
            cancel = [
                event(
                    OrderStatusChangedIntegrationEvent(
                        order_id=order_id, old_status="pending", new_status="cancelling"
                    )
                ),
                event(OrderCancelledIntegrationEvent(order_id=order_id)),
            ]
            events = [*cancel, *events] if plan["cancel_overtakes"] else [*events, *cancel]
        elif plan["fate"] == "shipped":
            events.append(
                event(
                    OrderStatusChangedIntegrationEvent(
                        order_id=order_id, old_status="confirmed", new_status="shipped"
                    )
                )
            )
        per_order.append((plan, order_id, events))
    queues = [list(events) for _, _, events in per_order]
    sequence = []
    while any(queues):
        queue = data.draw(st.sampled_from([q for q in queues if q]))
        sequence.append(queue.pop(0))
    duplicates = data.draw(st.lists(st.sampled_from(sequence), max_size=len(sequence)))
    for duplicate in duplicates:  # redeliveries land anywhere after the original
        after = sequence.index(duplicate) + 1
        sequence.insert(data.draw(st.integers(after, len(sequence))), duplicate)
    return per_order, sequence


def _stock_snapshot() -> dict[str, tuple[int, int, int]]:
    return {
        p.sku: (p.available_quantity, p.reserved_quantity, p.sold_quantity)
        for p in Product.objects.filter(sku__in=SKUS)
    }


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=order_plans, data=st.data())
def test_any_delivery_sequence_keeps_stock_consistent(plans, data):
    with transaction.atomic():
        for sku in SKUS:
            product_create(sku=sku, available_quantity=6, low_stock_threshold=2)
        per_order, sequence = _deliveries(plans, data)

        applied = Counter()
        for delivered in sequence:
            applied[event_apply(delivered, HANDLERS)] += 1

        # duplicates were recognised as such, and only they
        assert applied[True] == len({e.event_id for e in sequence})

        for sku, (available, reserved, sold) in _stock_snapshot().items():
            assert min(available, reserved, sold) >= 0
            assert available + reserved + sold == 6
            lines = ReservationLine.objects.filter(product_id=sku)
            assert reserved == sum(
                l.quantity for l in lines if l.reservation.status == ReservationStatus.RESERVED
            )
            assert sold == sum(
                l.quantity for l in lines if l.reservation.status == ReservationStatus.SOLD
            )

        for plan, order_id, _ in per_order:
            status = Reservation.objects.get(order_id=order_id).status
            if plan["fate"] == "cancelled":
                assert status in (ReservationStatus.RELEASED, ReservationStatus.CANCELLED)
            elif plan["fate"] == "shipped":
                assert status in (ReservationStatus.SOLD, ReservationStatus.REJECTED)
            else:
                assert status in (ReservationStatus.RESERVED, ReservationStatus.REJECTED)

        transaction.set_rollback(True)


def _outcome() -> tuple[dict, dict, dict]:
    """Stock, reservations and, per order, what was published (ids and times aside)."""
    published: dict[str, list[tuple[str, dict]]] = {}
    for row in OutboxMessage.objects.order_by("id"):
        payload = json.loads(row.body)["payload"]
        published.setdefault(row.correlation_id, []).append((row.event_type, payload))
    reservations = dict(Reservation.objects.values_list("order_id", "status"))
    return _stock_snapshot(), reservations, published


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=order_plans, data=st.data())
def test_batches_end_exactly_as_one_event_at_a_time(plans, data):
    with transaction.atomic():
        for sku in SKUS:
            product_create(sku=sku, available_quantity=6, low_stock_threshold=2)
        _, sequence = _deliveries(plans, data)
        cuts = sorted(data.draw(st.sets(st.integers(1, len(sequence)), max_size=len(sequence))))
        bounds = [0, *cuts, len(sequence)]
        batches = [sequence[i:j] for i, j in itertools.pairwise(bounds) if i < j]

        def outcome_of(apply) -> tuple[dict, dict, dict]:
            savepoint = transaction.savepoint()
            apply()
            outcome = _outcome()
            transaction.savepoint_rollback(savepoint)
            return outcome

        one_by_one = outcome_of(lambda: [event_apply(e, HANDLERS) for e in sequence])
        batched = outcome_of(lambda: [events_apply(batch, HANDLERS) for batch in batches])

        assert batched == one_by_one
        transaction.set_rollback(True)
