"""Processes SIGKILLed at the worst moments, deterministically, against the real servers.

Each crash runs in a child process (the same code, with one function wrapped to kill the
process right after it returns); the test then runs the normal code and checks the effect.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from order_service.orders.models import Order
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    ReservedLine,
    StockReservedIntegrationEvent,
)
from shared_events.django.conf import events_config
from shared_events.django.models import OutboxMessage, ProcessedEvent
from shared_events.django.outbox import outbox_append
from shared_events.django.relay import relay_outbox
from shared_events.registry import envelope_for
from tests.order_service.factories import keyboards_order_create
from tests.support.kafka import read_topic

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.kafka]


def _run_and_die(script: str) -> subprocess.CompletedProcess:
    """Run `script` in a Django child process that shares this test's database and topics."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "order_service.settings.test",
        "ORDER_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:"
        f"{db['PORT']}/{db['NAME']}",
        "KAFKA_NAMESPACE": events_config().kafka.namespace,
        "PYTHONPATH": str(ROOT),
    }
    prelude = "import os, signal, django\ndjango.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_relay_killed_after_kafka_acknowledged_but_before_marking_loses_nothing(kafka_settings):
    # given three committed outbox rows
    order_id = uuid.uuid4()
    with transaction.atomic():
        rows = outbox_append(
            *[OrderCancelledIntegrationEvent(order_id=order_id, reason=f"r{i}") for i in range(3)],
            correlation_id=str(order_id),
        )

    # when the relay dies right after Kafka acknowledged the batch
    crashed = _run_and_die("""
        from shared_events.kafka.producer import EventProducer
        from shared_events.django.relay import relay_outbox
        publish = EventProducer.publish_batch
        def publish_then_die(self, messages, **kwargs):
            reports = publish(self, messages, **kwargs)
            assert all(r.delivered for r in reports)
            os.kill(os.getpid(), signal.SIGKILL)
        EventProducer.publish_batch = publish_then_die
        relay_outbox()
    """)
    assert crashed.returncode == -9, crashed.stderr

    # then the rows are still unpublished (the marking never committed) ...
    ids = [r.id for r in rows]
    assert OutboxMessage.objects.filter(id__in=ids, published_at__isnull=True).count() == 3

    # ... and the next relay sends them again: each event is on the topic, twice at worst
    assert relay_outbox().published >= 3
    assert not OutboxMessage.objects.filter(id__in=ids, published_at__isnull=True).exists()
    mine = lambda ms: [m for m in ms if m.key() == str(order_id).encode()]  # noqa: E731
    messages = mine(
        read_topic(
            kafka_settings, events_config().publish_topic, until=lambda ms: len(mine(ms)) >= 6
        )
    )
    event_ids = [json.loads(m.value())["event_id"] for m in messages]
    assert event_ids == [str(r.event_id) for r in rows] * 2  # same ids, same order


@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_consumer_killed_around_its_commit_applies_the_event_exactly_once(kafka_settings, moment):
    # given a pending order and inventory's answer on the topic
    order = keyboards_order_create()
    answer = envelope_for(
        StockReservedIntegrationEvent(
            order_id=order.id,
            total_amount=Decimal("178.00"),
            lines=(ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("89.00")),),
        ),
        producer="inventory-service",
        correlation_id=str(order.id),
    )
    position = _produce(kafka_settings, answer.to_json_bytes(), key=str(order.id))
    # It dies at this test's answer only: the topic may hold other tests' events before it.
    consume = """
        import dataclasses
        from django.core.management import call_command
        from order_service.orders.handlers import HANDLERS
        from shared_events.contracts import StockReservedIntegrationEvent
        from shared_events.kafka.consumer import ConsumerLoop
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
        if MOMENT == "before_commit":  # the effect is written, its transaction still open
            handler = HANDLERS.by_type[StockReservedIntegrationEvent]
            def apply_then_die(events):
                handler.apply(events)
                if any(str(e.payload.order_id) == ORDER_ID for e in events):
                    die()
            HANDLERS.by_type[StockReservedIntegrationEvent] = dataclasses.replace(
                handler, apply=apply_then_die
            )
        else:  # the transaction committed, the offset not yet
            mark_done = ConsumerLoop._mark_done
            def mark_done_unless_mine(self, message):
                if message.key() == ORDER_ID.encode():
                    die()
                mark_done(self, message)
            ConsumerLoop._mark_done = mark_done_unless_mine
        call_command("consume_events")
    """

    # when the consumer dies inside the transaction, or after it but before the offset commit
    crashed = _run_and_die(
        f"MOMENT = {moment!r}\nORDER_ID = {str(order.id)!r}\n" + textwrap.dedent(consume)
    )
    assert crashed.returncode == -9, crashed.stderr
    applied = ProcessedEvent.objects.filter(event_id=answer.event_id).exists()
    assert applied is (moment == "after_commit")

    # then a fresh consumer of the same group gets the event again and applies it once
    finisher = _run_and_die(
        """
        from django.core.management import call_command
        from shared_events.kafka.consumer import ConsumerLoop
        mark_done = ConsumerLoop._mark_done
        def mark_done_then_stop(self, message):  # stop once the answer was handled
            mark_done(self, message)
            if message.key() == ORDER_KEY:
                os.kill(os.getpid(), signal.SIGTERM)  # SIGTERM commits the offset
        ConsumerLoop._mark_done = mark_done_then_stop
        call_command("consume_events")
    """.replace("ORDER_KEY", repr(str(order.id).encode()))
    )
    assert finisher.returncode == 0, finisher.stderr
    partition, offset = position
    assert _committed_offsets(kafka_settings).get(partition, 0) > offset
    order = Order.objects.get(id=order.id)
    assert order.status == "confirmed" and order.total_amount == Decimal("178.00")
    confirmations = OutboxMessage.objects.filter(
        correlation_id=str(order.id), event_type="OrderStatusChangedIntegrationEvent"
    )
    assert confirmations.count() == 1


def test_sigterm_finishes_the_batch_then_commits_and_exits(kafka_settings):
    # given answers for five pending orders on the topic, there before the consumer starts
    orders = [keyboards_order_create() for _ in range(5)]
    positions = {}
    for order in orders:
        answer = envelope_for(
            StockReservedIntegrationEvent(
                order_id=order.id,
                total_amount=Decimal("178.00"),
                lines=(ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("89.00")),),
            ),
            producer="inventory-service",
            correlation_id=str(order.id),
        )
        positions[order.id] = _produce(kafka_settings, answer.to_json_bytes(), key=str(order.id))

    # when SIGTERM arrives while the consumer applies its first batch
    stopped = _run_and_die("""
        from django.core.management import call_command
        from shared_events.django import consuming
        from shared_events.kafka.consumer import ConsumerLoop
        ConsumerLoop._commit_when_due = lambda self: None  # only stopping may commit
        apply = consuming.events_apply
        def terminated_while_applying(events, handlers):
            if not getattr(terminated_while_applying, "sent", False):
                terminated_while_applying.sent = True
                os.kill(os.getpid(), signal.SIGTERM)
            return apply(events, handlers)
        consuming.events_apply = terminated_while_applying
        call_command("consume_events")
    """)

    # then it exited by itself (waited on, nothing killed it), having applied that batch
    # whole, and committed exactly what it applied: nothing lost, nothing left to redo
    assert stopped.returncode == 0, stopped.stderr
    confirmed = set(
        Order.objects.filter(id__in=[o.id for o in orders], status="confirmed").values_list(
            "id", flat=True
        )
    )
    assert confirmed, "the batch under way was not finished"
    committed = _committed_offsets(kafka_settings)
    committed_orders = {
        order_id
        for order_id, (partition, offset) in positions.items()
        if committed.get(partition, 0) > offset
    }
    assert committed_orders == confirmed


def _produce(settings, value: bytes, *, key: str) -> tuple[int, int]:
    """Produce to the consumed topic; return where the message landed (partition, offset)."""
    from confluent_kafka import Producer

    landed: list[tuple[int, int]] = []
    producer = Producer(settings.client_config())
    producer.produce(
        events_config().consume_topics[0],
        value=value,
        key=key.encode(),
        on_delivery=lambda err, msg: (
            landed.append((msg.partition(), msg.offset())) if not err else None
        ),
    )
    assert producer.flush(10) == 0 and landed, "message not acknowledged"
    return landed[0]


def _committed_offsets(settings) -> dict[int, int]:
    """What the service's consumer group committed on its topic, per partition."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    group, topic = events_config().consumer_group, events_config().consume_topics[0]
    admin = AdminClient(settings.client_config())
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    return {
        tp.partition: tp.offset
        for tp in result.result().topic_partitions
        if tp.topic == topic and tp.offset > 0
    }
