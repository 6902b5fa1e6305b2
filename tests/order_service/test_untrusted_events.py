"""Forged or inconsistent inventory events change no order: refused, dead-lettered, and the
order waits for a valid answer."""

import threading
import time
import uuid
from decimal import Decimal

import pytest

from order_service.orders.handlers import HANDLERS
from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus
from shared_events.contracts import ReservedLine, StockReservedIntegrationEvent
from shared_events.django.conf import events_config
from shared_events.django.consuming import event_message_process, event_messages_process
from shared_events.django.models import OutboxMessage
from shared_events.errors import EventRejectedError, UntrustedEventError
from shared_events.kafka.admin import topics_ensure, wait_for_broker
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.registry import envelope_for
from shared_events.topics import dead_letter_topic, topic_name
from tests.order_service.factories import order_create
from tests.support.kafka import header, produce_raw, read_topic
from tests.support.messages import event_message

KEYBOARD, MOUSE = Decimal("89.00"), Decimal("25.50")


def _reserved(order_id: uuid.UUID, lines: dict[str, int]) -> StockReservedIntegrationEvent:
    """A reservation of `lines` at the shop's prices, its total the lines' sum."""
    prices = {"KEYBOARD-01": KEYBOARD, "MOUSE-01": MOUSE, "LAMP-DESK": Decimal("30.00")}
    reserved = tuple(
        ReservedLine(sku=sku, quantity=quantity, unit_price=prices[sku])
        for sku, quantity in lines.items()
    )
    total = sum((line.unit_price * line.quantity for line in reserved), Decimal(0))
    return StockReservedIntegrationEvent(order_id=order_id, lines=reserved, total_amount=total)


def _pending_and_untouched(order: Order) -> None:
    order.refresh_from_db()
    assert (order.status, order.total_amount) == (OrderStatus.PENDING, None)
    assert all(line.unit_price is None for line in order.lines.all())
    assert not OutboxMessage.objects.filter(
        correlation_id=str(order.id), event_type="OrderStatusChangedIntegrationEvent"
    ).exists()


# The factory's order: 2 x KEYBOARD-01, 1 x MOUSE-01.
ORDERED = {"KEYBOARD-01": 2, "MOUSE-01": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "lines",
    [
        pytest.param({"KEYBOARD-01": 1, "MOUSE-01": 1}, id="fewer-units"),
        pytest.param({"KEYBOARD-01": 2, "MOUSE-01": 5}, id="more-units"),
        pytest.param({"KEYBOARD-01": 2}, id="missing-line"),
        pytest.param({**ORDERED, "LAMP-DESK": 1}, id="extra-line"),
        pytest.param({"KEYBOARD-01": 2, "LAMP-DESK": 1}, id="other-sku"),
    ],
)
def test_a_reservation_that_is_not_the_orders_lines_is_refused(lines):
    # given a pending order
    order = order_create()
    message, _ = event_message(_reserved(order.id, lines), correlation_id=str(order.id))

    # when inventory "reserves" other lines for it
    with pytest.raises(EventRejectedError, match="the reservation of order"):
        event_message_process(message, handlers=HANDLERS)

    # then the order still waits for a valid answer
    _pending_and_untouched(order)


@pytest.mark.django_db
def test_a_batch_with_a_mismatched_reservation_applies_nothing_so_it_is_split():
    # given two pending orders, one answered with a reservation of other lines
    good, forged = order_create(), order_create()
    messages = [
        event_message(_reserved(good.id, ORDERED))[0],
        event_message(_reserved(forged.id, {"KEYBOARD-01": 100}))[0],
    ]

    # when the batch is offered whole, it is refused whole
    with pytest.raises(EventRejectedError):
        event_messages_process(messages, handlers=HANDLERS)
    _pending_and_untouched(good)

    # then one at a time, the valid one confirms its order and the other is refused
    assert event_message_process(messages[0], handlers=HANDLERS) == "applied"
    with pytest.raises(EventRejectedError):
        event_message_process(messages[1], handlers=HANDLERS)
    good.refresh_from_db()
    assert (good.status, good.total_amount) == (OrderStatus.CONFIRMED, 2 * KEYBOARD + MOUSE)
    _pending_and_untouched(forged)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "producer", "reason"),
    [
        pytest.param("order-events", None, "is not published on", id="wrong-topic"),
        pytest.param(None, "order-service", "published by inventory-service", id="producer"),
        pytest.param(None, "inventory", "published by inventory-service", id="lookalike"),
    ],
)
def test_a_reservation_from_anywhere_but_inventorys_topic_and_producer_is_refused(
    where, producer, reason
):
    # given a pending order and a reservation that matches it, sent from the wrong place
    order = order_create()
    topic = topic_name(where, namespace=events_config().kafka.namespace) if where else None
    message, _ = event_message(_reserved(order.id, ORDERED), topic=topic, producer=producer)

    # when / then
    with pytest.raises(UntrustedEventError, match=reason):
        event_message_process(message, handlers=HANDLERS)
    _pending_and_untouched(order)


@pytest.fixture
def kafka_settings():
    settings = events_config().kafka
    wait_for_broker(settings, timeout=30)
    topics_ensure(settings)
    return settings


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_forged_reservations_on_the_broker_are_dead_lettered_and_the_valid_one_confirms(
    kafka_settings,
):
    # given a pending order
    order = order_create()
    config = events_config()
    [topic] = config.consume_topics
    key = str(order.id).encode()

    def send(payload: StockReservedIntegrationEvent, producer: str, total: str = "") -> None:
        body = envelope_for(payload, producer=producer).to_json_bytes()
        if total:  # a total the lines do not add up to
            body = body.replace(
                f'"total_amount":"{payload.total_amount}"'.encode(),
                f'"total_amount":"{total}"'.encode(),
            )
        produce_raw(kafka_settings, topic, body, key=key)

    # when forged answers come first: other lines, the wrong producer, a total off its lines,
    # and then inventory's valid answer
    send(_reserved(order.id, {"KEYBOARD-01": 1, "MOUSE-01": 1}), "inventory-service")
    send(_reserved(order.id, ORDERED), "order-service")
    send(_reserved(order.id, ORDERED), "inventory-service", total="0.01")
    send(_reserved(order.id, ORDERED), "inventory-service")
    loop = ConsumerLoop(
        settings=config.kafka,
        group_id=f"{config.consumer_group}-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        process=lambda m: event_message_process(m, handlers=HANDLERS),
        process_batch=lambda ms: event_messages_process(ms, handlers=HANDLERS),
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while Order.objects.get(id=order.id).status == OrderStatus.PENDING:
        assert time.monotonic() < deadline, "the valid reservation was not applied"
        time.sleep(0.1)
    loop.stop()
    thread.join(timeout=30)

    # then the order is confirmed at the valid reservation's total, once
    order.refresh_from_db()
    assert (order.status, order.total_amount) == (OrderStatus.CONFIRMED, 2 * KEYBOARD + MOUSE)
    assert (
        OutboxMessage.objects.filter(
            correlation_id=str(order.id), event_type="OrderStatusChangedIntegrationEvent"
        ).count()
        == 1
    )
    # and each forged answer is a dead letter that says why
    mine = lambda ms: [m for m in ms if m.key() == key]  # noqa: E731
    dead = mine(
        read_topic(kafka_settings, dead_letter_topic(topic), until=lambda ms: len(mine(ms)) >= 3)
    )
    assert [header(m, "dlq.error.class") for m in dead] == [
        "EventRejectedError",
        "UntrustedEventError",
        "ContractValidationError",
    ]
    assert "holds 1 x KEYBOARD-01, 1 x MOUSE-01" in (header(dead[0], "dlq.error.message") or "")
