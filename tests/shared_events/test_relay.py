"""The outbox relay against the real broker and database."""

import json
import threading
import time
import uuid
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone

from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
)
from shared_events.contracts.limits import (
    CUSTOMER_ID_MAX_LENGTH,
    LINE_MAX_QUANTITY,
    ORDER_MAX_LINES,
    SKU_MAX_LENGTH,
)
from shared_events.django.conf import events_config
from shared_events.django.models import DeadLetter, OutboxMessage, ProcessedEvent
from shared_events.django.outbox import outbox_append
from shared_events.django.relay import (
    RELAY_LOCK_KEY,
    events_purge,
    outbox_redrive,
    relay_follow,
    relay_outbox,
    relay_outbox_batch,
)
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.producer import EventProducer
from tests.support.kafka import header, read_topic

pytestmark = [pytest.mark.django_db, pytest.mark.kafka]


def _publish_cancellations(order_id: uuid.UUID, count: int) -> list[OutboxMessage]:
    with transaction.atomic():
        return outbox_append(
            *[
                OrderCancelledIntegrationEvent(order_id=order_id, reason=f"r{i}")
                for i in range(count)
            ],
            correlation_id=str(order_id),
        )


@pytest.mark.django_db(transaction=True)
def test_outbox_append_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_append(OrderCancelledIntegrationEvent(order_id=uuid.uuid4()))


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


@pytest.mark.django_db(transaction=True)
def test_a_relay_that_cannot_get_the_lock_is_busy_and_sends_nothing(kafka_settings):
    # given another relay holding the lock
    rows = _publish_cancellations(uuid.uuid4(), 2)
    other = psycopg2.connect(**connection.get_connection_params())
    other.cursor().execute("SELECT pg_advisory_lock(%s)", [RELAY_LOCK_KEY])
    sent = []

    class Recording(EventProducer):
        def publish_batch(self, messages, **kwargs):
            sent.extend(messages)
            return super().publish_batch(messages, **kwargs)

    producer = Recording(kafka_settings)
    try:
        # when
        busy = relay_outbox_batch(producer=producer, batch_size=1000, lock_timeout_ms=100)
    finally:
        other.close()
    # then nothing was sent or marked, and the next run sends the rows
    assert busy.busy and busy.published == 0 and not sent
    assert OutboxMessage.objects.filter(id__in=[r.id for r in rows], published_at=None).count() == 2
    assert (
        relay_outbox_batch(producer=producer, batch_size=1000, lock_timeout_ms=100).published == 2
    )


def test_an_unreachable_broker_backs_off_and_never_parks_rows(kafka_settings):
    # given a producer that cannot reach any broker
    rows = _publish_cancellations(uuid.uuid4(), 2)
    ids = [r.id for r in rows]
    unreachable = EventProducer(
        KafkaSettings(bootstrap_servers="127.0.0.1:1"), **{"message.timeout.ms": 200}
    )

    # when it fails more often than a parked row would be allowed to
    for _ in range(events_config().outbox_max_attempts + 1):
        OutboxMessage.objects.filter(id__in=ids).update(next_attempt_at=None)  # time passes
        result = relay_outbox_batch(producer=unreachable, batch_size=1000, lock_timeout_ms=1000)
        assert result.published == 0 and result.failed >= 2

    # then each row counts its attempts, keeps the error and waits, but is not parked
    for row in OutboxMessage.objects.filter(id__in=ids):
        assert row.published_at is None and row.failed_at is None
        assert row.attempts == events_config().outbox_max_attempts + 1
        assert "timed out" in row.last_error.lower()
        assert row.next_attempt_at > timezone.now()

    # and while the oldest row backs off nothing newer overtakes it
    assert relay_outbox().backing_off

    # and once the backoff has passed the rows drain by themselves
    OutboxMessage.objects.filter(id__in=ids).update(next_attempt_at=timezone.now())
    assert relay_outbox().published >= 2
    assert not OutboxMessage.objects.filter(id__in=ids, published_at__isnull=True).exists()


def test_a_message_kafka_refuses_is_parked_the_rest_flow_and_it_can_be_redriven(kafka_settings):
    # given a row too large for the producer, followed by a normal one
    with transaction.atomic():
        # the largest order the API takes: its longest SKUs, as many lines as it allows
        [big] = outbox_append(
            OrderCreatedIntegrationEvent(
                order_id=uuid.uuid4(),
                customer_id="c" * CUSTOMER_ID_MAX_LENGTH,
                lines=tuple(
                    OrderLine(sku=f"{i:0{SKU_MAX_LENGTH}d}", quantity=LINE_MAX_QUANTITY)
                    for i in range(ORDER_MAX_LINES)
                ),
            )
        )
    [small] = _publish_cancellations(uuid.uuid4(), 1)
    strict = EventProducer(kafka_settings, **{"message.max.bytes": 2000})

    # when the relay keeps trying
    for _ in range(events_config().outbox_max_attempts):
        OutboxMessage.objects.filter(id=big.id).update(next_attempt_at=None)
        relay_outbox_batch(producer=strict, batch_size=1000, lock_timeout_ms=1000)

    # then the refused row is parked with the reason, and the other one was published
    parked = OutboxMessage.objects.get(id=big.id)
    assert parked.status == "failed" and "too large" in parked.last_error.lower()
    assert OutboxMessage.objects.get(id=small.id).status == "published"
    assert relay_outbox().published == 0  # parked rows are left alone

    # when an operator redrives it (here with a producer that accepts it)
    assert outbox_redrive(ids=[parked.id]) == 1

    # then it is published
    assert relay_outbox().published == 1
    assert OutboxMessage.objects.get(id=parked.id).status == "published"


def test_purge_deletes_only_old_published_rows_processed_ids_and_dead_letters():
    old, recent = _publish_cancellations(uuid.uuid4(), 2)
    pending = _publish_cancellations(uuid.uuid4(), 1)[0]
    long_ago = timezone.now() - timedelta(days=8)
    OutboxMessage.objects.filter(id=old.id).update(published_at=long_ago)
    OutboxMessage.objects.filter(id=recent.id).update(published_at=timezone.now())
    ProcessedEvent.objects.create(event_id=uuid.uuid4(), event_type="X")
    stale = ProcessedEvent.objects.create(event_id=uuid.uuid4(), event_type="X")
    ProcessedEvent.objects.filter(event_id=stale.event_id).update(processed_at=long_ago)
    kept, purged = (
        DeadLetter.objects.create(topic="t.dlq", partition=0, offset=offset, original_topic="t")
        for offset in (1, 2)
    )
    DeadLetter.objects.filter(id=purged.id).update(received_at=long_ago)

    assert events_purge(older_than=timedelta(days=7)) == (1, 1, 1)

    assert set(OutboxMessage.objects.values_list("id", flat=True)) >= {recent.id, pending.id}
    assert not OutboxMessage.objects.filter(id=old.id).exists()
    assert not ProcessedEvent.objects.filter(event_id=stale.event_id).exists()
    assert list(DeadLetter.objects.values_list("id", flat=True)) == [kept.id]


@pytest.mark.django_db(transaction=True)
def test_the_following_relay_publishes_each_commit_without_waiting_for_a_sweep():
    # given a following relay that would otherwise look only every 30 s
    stop = threading.Event()
    follower = threading.Thread(target=relay_follow, kwargs={"stop": stop, "idle_seconds": 30})
    follower.start()
    try:
        first = _publish_cancellations(uuid.uuid4(), 1)[0]
        _wait_published(first.id, within=10)

        # when another transaction commits outbox rows
        started = time.monotonic()
        [second] = _publish_cancellations(uuid.uuid4(), 1)

        # then the commit's notification wakes the relay at once
        _wait_published(second.id, within=5)
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        follower.join(timeout=40)
    assert not follower.is_alive()


def _wait_published(row_id: int, *, within: float) -> None:
    deadline = time.monotonic() + within
    while not OutboxMessage.objects.filter(id=row_id, published_at__isnull=False).exists():
        assert time.monotonic() < deadline, f"outbox row {row_id} not published in {within}s"
        time.sleep(0.02)
