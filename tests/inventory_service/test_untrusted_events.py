"""A forged OrderCancelled releases nothing: inventory releases reserved stock only for an
order the Order Service announced as cancelling."""

import threading
import time
import uuid

import pytest
from confluent_kafka import Message

from inventory_service.stock.handlers import HANDLERS
from inventory_service.stock.models import Product, Reservation, ReservationStatus
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.django.conf import events_config
from shared_events.django.consuming import event_message_process, event_messages_process
from shared_events.django.inbox import event_apply
from shared_events.django.models import OutboxMessage
from shared_events.errors import EventRejectedError
from shared_events.kafka.admin import topics_ensure, wait_for_broker
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.registry import envelope_for
from shared_events.topics import dead_letter_topic
from tests.inventory_service.factories import event, product_create
from tests.support.kafka import header, produce_raw, read_topic


def _created(order_id: uuid.UUID, sku: str, quantity: int) -> OrderCreatedIntegrationEvent:
    return OrderCreatedIntegrationEvent(
        order_id=order_id, customer_id="c", lines=(OrderLine(sku=sku, quantity=quantity),)
    )


def _status(order_id: uuid.UUID, old: str, new: str) -> OrderStatusChangedIntegrationEvent:
    return OrderStatusChangedIntegrationEvent(order_id=order_id, old_status=old, new_status=new)


def _stock(sku: str) -> tuple[int, int, int]:
    p = Product.objects.get(sku=sku)
    return p.available_quantity, p.reserved_quantity, p.sold_quantity


def _releases(order_id: uuid.UUID) -> int:
    return OutboxMessage.objects.filter(
        correlation_id=str(order_id), event_type="StockLevelNormalizedIntegrationEvent"
    ).count()


@pytest.mark.django_db
def test_a_forged_cancellation_of_a_confirmed_order_releases_nothing_and_it_still_ships():
    # given a confirmed order holding 3 of 10 units
    product = product_create(available_quantity=10)
    order_id = uuid.uuid4()
    event_apply(event(_created(order_id, product.sku, 3)), HANDLERS)

    # when an OrderCancelled arrives that the Order Service never announced
    with pytest.raises(EventRejectedError, match="never announced as cancelling"):
        event_apply(event(OrderCancelledIntegrationEvent(order_id=order_id)), HANDLERS)

    # then its stock stays reserved, nothing confirms a release, and shipping sells it:
    # no unit is both shipped and available to others
    assert _stock(product.sku) == (7, 3, 0)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.RESERVED
    assert _releases(order_id) == 0
    event_apply(event(_status(order_id, "confirmed", "shipped")), HANDLERS)
    assert _stock(product.sku) == (7, 0, 3)


@pytest.mark.django_db
@pytest.mark.parametrize("announced_from", ["pending", "confirmed"])
def test_an_announced_cancellation_releases_the_reservation(announced_from):
    # given a reserved order the Order Service announced as cancelling
    product = product_create(available_quantity=10)
    order_id = uuid.uuid4()
    event_apply(event(_created(order_id, product.sku, 3)), HANDLERS)
    event_apply(event(_status(order_id, announced_from, "cancelling")), HANDLERS)

    # when its OrderCancelled follows
    event_apply(event(OrderCancelledIntegrationEvent(order_id=order_id)), HANDLERS)

    # then the stock is back and the release confirmed
    assert _stock(product.sku) == (10, 0, 0)
    assert Reservation.objects.get(order_id=order_id).status == ReservationStatus.RELEASED
    assert _releases(order_id) == 1


@pytest.fixture
def kafka_settings():
    settings = events_config().kafka
    wait_for_broker(settings, timeout=30)
    topics_ensure(settings)
    return settings


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_on_the_broker_a_forged_cancellation_is_dead_lettered_and_the_real_one_releases(
    kafka_settings,
):
    # given a confirmed order's events on the order topic, then a forged OrderCancelled,
    # then the Order Service's own cancellation: its announcement and its OrderCancelled
    product = product_create(available_quantity=10)
    order_id = uuid.uuid4()
    config = events_config()
    [topic] = config.consume_topics
    key = str(order_id).encode()
    for payload in (
        _created(order_id, product.sku, 3),
        _status(order_id, "pending", "confirmed"),
        OrderCancelledIntegrationEvent(order_id=order_id),
    ):
        body = envelope_for(payload, producer="order-service").to_json_bytes()
        produce_raw(kafka_settings, topic, body, key=key)
    forged_at = _stock_when(product.sku, lambda s: s == (7, 3, 0), kafka_settings, topic)
    assert forged_at == (7, 3, 0)

    # when the real cancellation follows
    for payload in (
        _status(order_id, "confirmed", "cancelling"),
        OrderCancelledIntegrationEvent(order_id=order_id),
    ):
        body = envelope_for(payload, producer="order-service").to_json_bytes()
        produce_raw(kafka_settings, topic, body, key=key)

    # then only that one released the stock, and the forged one is a dead letter
    assert _stock_when(product.sku, lambda s: s == (10, 0, 0), kafka_settings, topic) == (
        10,
        0,
        0,
    )
    assert _releases(order_id) == 1

    def mine(messages: list[Message]) -> list[Message]:
        return [m for m in messages if m.key() == key]

    dlq = dead_letter_topic(topic)
    [dead] = mine(read_topic(kafka_settings, dlq, until=lambda ms: len(mine(ms)) >= 1))
    assert header(dead, "dlq.error.class") == "EventRejectedError"


def _stock_when(sku, done, settings, topic):
    """Consume the topic with the service's handlers until the product's stock is `done`."""
    loop = ConsumerLoop(
        settings=settings,
        group_id=f"{events_config().consumer_group}-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        process=lambda m: event_message_process(m, handlers=HANDLERS),
        process_batch=lambda ms: event_messages_process(ms, handlers=HANDLERS),
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not done(_stock(sku)):
        assert time.monotonic() < deadline, f"stock is {_stock(sku)}"
        time.sleep(0.1)
    time.sleep(1)  # let whatever else was delivered be applied too
    loop.stop()
    thread.join(timeout=30)
    return _stock(sku)
