"""The outbox relay against the real broker and database."""

import json
import uuid

import pytest
from django.db import transaction

from shared_events.contracts import OrderCancelledIntegrationEvent
from shared_events.django.conf import events_config
from shared_events.django.models import OutboxMessage
from shared_events.django.outbox import outbox_publish
from shared_events.django.relay import outbox_redrive, relay_outbox, relay_outbox_batch
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.producer import EventProducer
from tests.support.kafka import header, read_topic

pytestmark = [pytest.mark.django_db, pytest.mark.kafka]


def _publish_cancellations(order_id: uuid.UUID, count: int) -> list[OutboxMessage]:
    with transaction.atomic():
        return outbox_publish(
            *[
                OrderCancelledIntegrationEvent(order_id=order_id, reason=f"r{i}")
                for i in range(count)
            ],
            correlation_id=str(order_id),
        )


@pytest.mark.django_db(transaction=True)
def test_outbox_publish_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_publish(OrderCancelledIntegrationEvent(order_id=uuid.uuid4()))


def test_relay_publishes_rows_in_order_with_key_and_headers_then_marks_them(kafka_settings):
    # given
    order_id = uuid.uuid4()
    rows = _publish_cancellations(order_id, 5)

    # when
    result = relay_outbox()

    # then
    assert result.published >= 5
    assert not OutboxMessage.objects.filter(
        id__in=[r.id for r in rows], published_at__isnull=True
    ).exists()
    topic = events_config().publish_topic
    mine = lambda ms: [m for m in ms if m.key() == str(order_id).encode()]  # noqa: E731
    messages = mine(read_topic(kafka_settings, topic, until=lambda ms: len(mine(ms)) == 5))
    assert [json.loads(m.value())["payload"]["reason"] for m in messages] == [
        f"r{i}" for i in range(5)
    ]
    assert {m.partition() for m in messages} == {messages[0].partition()}
    assert header(messages[0], "event_type") == "OrderCancelledIntegrationEvent"
    assert header(messages[0], "event_version") == "1"
    assert [json.loads(m.value())["event_id"] for m in messages] == [str(r.event_id) for r in rows]


def test_rows_stay_unpublished_with_the_error_when_kafka_is_unreachable(kafka_settings):
    # given a producer that cannot reach any broker
    rows = _publish_cancellations(uuid.uuid4(), 2)
    unreachable = EventProducer(
        KafkaSettings(bootstrap_servers="127.0.0.1:1"), **{"message.timeout.ms": 500}
    )

    # when
    result = relay_outbox_batch(producer=unreachable, batch_size=1000, lock_timeout_ms=1000)

    # then nothing is marked published, and each row says why
    assert result.published == 0 and result.failed >= 2
    for row in OutboxMessage.objects.filter(id__in=[r.id for r in rows]):
        assert row.published_at is None
        assert row.attempts == 1
        assert row.last_error

    # and a working relay later sends them
    assert relay_outbox().published >= 2
    assert not OutboxMessage.objects.filter(
        id__in=[r.id for r in rows], published_at__isnull=True
    ).exists()


def test_failed_rows_are_parked_then_redriven(kafka_settings):
    # given rows that exhausted their attempts
    rows = _publish_cancellations(uuid.uuid4(), 1)
    unreachable = EventProducer(
        KafkaSettings(bootstrap_servers="127.0.0.1:1"), **{"message.timeout.ms": 200}
    )
    for _ in range(events_config().outbox_max_attempts):
        relay_outbox_batch(producer=unreachable, batch_size=1000, lock_timeout_ms=1000)
    parked = OutboxMessage.objects.get(id=rows[0].id)
    assert parked.failed_at is not None and parked.status == "failed"
    assert relay_outbox().published == 0  # parked rows are left alone

    # when
    assert outbox_redrive(ids=[parked.id]) == 1

    # then
    assert relay_outbox().published == 1
    assert OutboxMessage.objects.get(id=parked.id).status == "published"
