"""Property: inventory's answers, duplicated and interleaved with the customer's actions,
always leave each order in the status its history implies, by allowed transitions only.
"""

import itertools
import json
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from order_service.orders import services
from order_service.orders.handlers import HANDLERS
from order_service.orders.models import Order
from order_service.orders.statuses import can_transition
from service_platform.api import ConflictError
from shared_events.contracts import (
    ReservationFailedIntegrationEvent,
    ReservedLine,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.inbox import event_apply
from shared_events.django.models import OutboxMessage
from tests.order_service.factories import event, keyboards_order_create

scenarios = st.lists(
    st.fixed_dictionaries(
        {
            "reserved": st.booleans(),
            "cancel": st.booleans(),
            "ship": st.booleans(),
        }
    ),
    min_size=1,
    max_size=6,
)


def _answer(order: Order, reserved: bool):
    if reserved:
        return event(
            StockReservedIntegrationEvent(
                order_id=order.id,
                total_amount=Decimal("178.00"),
                lines=(ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("89.00")),),
            )
        )
    return event(
        ReservationFailedIntegrationEvent(
            order_id=order.id, reason_code="insufficient_stock", reason="none left"
        )
    )


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=scenarios, data=st.data())
def test_orders_end_where_their_history_says(plan, data):
    with transaction.atomic():
        orders = [keyboards_order_create() for _ in plan]
        # Each order's steps (by index, so that draws replay), in the order causality
        # allows; the draws interleave the orders.
        steps = {
            i: [("deliver", _answer(o, p["reserved"]))]
            for i, (o, p) in enumerate(zip(orders, plan, strict=True))
        }
        for i, p in enumerate(plan):
            if p["cancel"]:
                at = data.draw(st.integers(0, 1))  # the cancel may overtake the answer
                steps[i].insert(at, ("cancel", None))
            elif p["ship"]:
                steps[i].append(("ship", None))
        cancelled, shipped = set(), set()
        while any(steps.values()):
            i = data.draw(st.sampled_from([k for k, v in steps.items() if v]))
            order_id = orders[i].id
            action, payload = steps[i].pop(0)
            if action == "deliver":
                event_apply(payload, HANDLERS)
                if data.draw(st.booleans()):  # a redelivery, later on
                    steps[i].insert(data.draw(st.integers(0, len(steps[i]))), ("deliver", payload))
            elif action == "cancel":
                try:
                    services.order_cancel(order_id=order_id)
                except ConflictError:
                    continue  # already rejected: nothing to cancel
                cancelled.add(order_id)
                confirmation = event(StockLevelNormalizedIntegrationEvent(order_id=order_id))
                steps[i].append(("deliver", confirmation))  # inventory's release
            elif action == "ship":
                try:
                    services.order_ship(order_id=order_id)
                    shipped.add(order_id)
                except ConflictError:
                    pass  # rejected orders cannot ship

        for order, p in zip(orders, plan, strict=True):
            order.refresh_from_db()
            if order.id in cancelled:
                expected = "cancelled"
            elif order.id in shipped:
                expected = "shipped"
            else:
                expected = "confirmed" if p["reserved"] else "rejected"
            assert order.status == expected

            changes = [
                json.loads(r.body)["payload"]
                for r in OutboxMessage.objects.filter(
                    correlation_id=str(order.id), event_type="OrderStatusChangedIntegrationEvent"
                ).order_by("id")
            ]
            path = ["pending"] + [c["new_status"] for c in changes]
            assert [c["old_status"] for c in changes] == path[:-1]
            assert all(can_transition(a, b) for a, b in itertools.pairwise(path))
            assert path[-1] == expected

        transaction.set_rollback(True)


@pytest.mark.django_db
def test_confirmation_keeps_the_reserved_total():
    # A sanity anchor for the property above: the reserved answer confirms with its total.
    with transaction.atomic():
        order = keyboards_order_create()
        answer = _answer(order, reserved=True)
        event_apply(answer, HANDLERS)
        order.refresh_from_db()
        assert (order.status, order.total_amount) == ("confirmed", Decimal("178.00"))
        transaction.set_rollback(True)
