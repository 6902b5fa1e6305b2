"""How the inbox cuts a batch into runs: the rules each service's EventHandlers declare."""

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.django.inbox import EventHandlers, EventsByType, Handler, events_apply
from shared_events.registry import Event
from tests.support.events import event

pytestmark = pytest.mark.django_db


def _created() -> OrderCreatedIntegrationEvent:
    return OrderCreatedIntegrationEvent(
        order_id=uuid.uuid4(), customer_id="c", lines=(OrderLine(sku="SKU-1", quantity=1),)
    )


def _status(new_status: str) -> OrderStatusChangedIntegrationEvent:
    return OrderStatusChangedIntegrationEvent(
        order_id=uuid.uuid4(), old_status="confirmed", new_status=new_status
    )


class Recorder:
    """Handlers that write down the runs they get, by name."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any]]] = []
        self.before: list[dict[str, int]] = []

    def handler(self, name: str, **options: Any) -> Handler:
        def apply(events: Sequence[Event[Any]]) -> None:
            self.calls.append((name, [e.payload for e in events]))

        return Handler(apply, **options)

    def before_batch(self, events: EventsByType) -> None:
        self.before.append({t.__name__: len(es) for t, es in events.items()})


def test_consecutive_events_of_a_batched_type_come_in_one_call_others_one_by_one():
    recorder = Recorder()
    handlers = EventHandlers(
        by_type={
            OrderCreatedIntegrationEvent: recorder.handler("created", batched=True),
            OrderCancelledIntegrationEvent: recorder.handler("cancelled", batched=False),
        }
    )
    c1, c2, c3 = _created(), _created(), _created()
    x1 = OrderCancelledIntegrationEvent(order_id=uuid.uuid4())
    x2 = OrderCancelledIntegrationEvent(order_id=uuid.uuid4())

    outcomes = events_apply([event(p) for p in (c1, c2, x1, x2, c3)], handlers)

    assert outcomes == ["applied"] * 5
    assert recorder.calls == [
        ("created", [c1, c2]),
        ("cancelled", [x1]),
        ("cancelled", [x2]),
        ("created", [c3]),
    ]


def test_an_event_its_handler_does_not_act_on_is_recorded_but_does_not_cut_a_run():
    recorder = Recorder()
    handlers = EventHandlers(
        by_type={
            OrderCreatedIntegrationEvent: recorder.handler("created", batched=True),
            OrderStatusChangedIntegrationEvent: recorder.handler(
                "shipped", batched=False, acts_on=lambda p: p.new_status == "shipped"
            ),
        },
        before_batch=recorder.before_batch,
    )
    c1, c2, c3 = _created(), _created(), _created()
    confirmed, shipped = _status("confirmed"), _status("shipped")

    outcomes = events_apply([event(p) for p in (c1, confirmed, c2, shipped, c3)], handlers)

    assert outcomes == ["applied"] * 5  # the confirmation is recorded all the same
    assert recorder.calls == [("created", [c1, c2]), ("shipped", [shipped]), ("created", [c3])]
    # the batch's locks are taken once, first, for what the handlers will get
    assert recorder.before == [
        {"OrderCreatedIntegrationEvent": 3, "OrderStatusChangedIntegrationEvent": 1}
    ]


def test_duplicates_and_types_without_a_handler_reach_no_handler():
    recorder = Recorder()
    handlers = EventHandlers(
        by_type={OrderCreatedIntegrationEvent: recorder.handler("created", batched=True)},
        before_batch=recorder.before_batch,
    )
    created = event(_created())
    other = event(OrderCancelledIntegrationEvent(order_id=uuid.uuid4()))

    outcomes = events_apply([created, other, created], handlers)

    assert outcomes == ["applied", "skipped", "duplicate"]
    assert recorder.calls == [("created", [created.payload])]
    assert recorder.before == [{"OrderCreatedIntegrationEvent": 1}]
