"""The relay's logic on the real database and an in-memory Kafka: what it sends, in which
order, and what it marks, backs off or parks. The relay against the real broker:
test_relay.py."""

import json
import uuid
from datetime import timedelta

import pytest
from confluent_kafka import KafkaError
from django.db import transaction
from django.utils import timezone

from shared_events.contracts import OrderCancelledIntegrationEvent
from shared_events.django.conf import events_config
from shared_events.django.models import OutboxMessage
from shared_events.django.outbox import outbox_append
from shared_events.django.relay import (
    MAX_BACKOFF_SECONDS,
    UNREACHABLE_MAX_BACKOFF_SECONDS,
    RelayResult,
    relay_outbox,
    relay_outbox_batch,
)
from shared_events.django.sql import AppendedOutboxRow
from shared_events.headers import message_headers
from shared_events.kafka.producer import EventProducer
from tests.support.fake_kafka import FakeBroker, FakeProducer

pytestmark = pytest.mark.django_db

TOO_LARGE = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)
TIMED_OUT = KafkaError(KafkaError._MSG_TIMED_OUT)


def _append(count: int, *, order_id: uuid.UUID | None = None) -> list[AppendedOutboxRow]:
    order_id = order_id or uuid.uuid4()
    with transaction.atomic():
        return outbox_append(
            *[
                OrderCancelledIntegrationEvent(order_id=order_id, reason=f"r{i}")
                for i in range(count)
            ],
            correlation_id=str(order_id),
        )


def _producer(client: FakeProducer) -> EventProducer:
    return EventProducer(events_config().kafka, client=client)


def _relay(client: FakeProducer, batch_size: int = 100) -> RelayResult:
    return relay_outbox_batch(
        producer=_producer(client), batch_size=batch_size, lock_timeout_ms=100
    )


def _states(rows: list[AppendedOutboxRow]) -> list[tuple[bool, int, bool]]:
    """(published, attempts, parked) of each row, in order."""
    by_id = OutboxMessage.objects.in_bulk([r.id for r in rows])
    return [
        (
            by_id[r.id].published_at is not None,
            by_id[r.id].attempts,
            by_id[r.id].failed_at is not None,
        )
        for r in rows
    ]


def _pending_ids() -> list[int]:
    return list(
        OutboxMessage.objects.filter(published_at=None, failed_at=None).values_list("id", flat=True)
    )


def test_rows_go_out_in_id_order_with_key_and_headers_and_are_marked_published():
    # given
    order_id = uuid.uuid4()
    rows = _append(3, order_id=order_id)
    broker = FakeBroker()

    # when
    result = _relay(FakeProducer(broker))

    # then every pending row went out, these in order, then was marked
    topic = events_config().publish_topic
    sent = [m for m in broker.messages(topic) if m.key() == str(order_id).encode()]
    assert [json.loads(m.value())["event_id"] for m in sent] == [str(r.event_id) for r in rows]
    headers = dict(message_headers(sent[0]))
    assert headers["event_type"] == b"OrderCancelledIntegrationEvent"
    assert headers["event_version"] == b"1"
    assert headers["correlation_id"] == str(order_id).encode()
    assert headers["event_id"] == str(rows[0].event_id).encode()
    assert result.published == len(broker.messages(topic)) and result.failed == 0
    assert _states(rows) == [(True, 0, False)] * 3
    assert _pending_ids() == []


def test_only_the_rows_kafka_acknowledged_are_marked_published():
    # given three rows, the second of which Kafka does not acknowledge in time
    rows = _append(3)
    unlucky = str(rows[1].event_id).encode()

    def fail(topic: str, value: bytes) -> KafkaError | None:
        return TIMED_OUT if unlucky in value else None

    # when
    result = _relay(FakeProducer(FakeBroker(), fail=fail))

    # then it counts an attempt and waits, without parking the row
    assert result.failed == 1
    assert _states(rows) == [(True, 0, False), (False, 1, False), (True, 0, False)]
    waiting = OutboxMessage.objects.get(id=rows[1].id)
    assert waiting.next_attempt_at > timezone.now()
    assert "timed out" in waiting.last_error.lower()


@pytest.mark.parametrize(
    ("error", "longest_wait"),
    [(TIMED_OUT, UNREACHABLE_MAX_BACKOFF_SECONDS), (TOO_LARGE, MAX_BACKOFF_SECONDS)],
    ids=["unreachable", "refused"],
)
def test_backoff_doubles_up_to_a_short_cap_for_an_unreachable_broker(error, longest_wait):
    # given a row that has failed many times already (a long outage, or a row Kafka refuses)
    OutboxMessage.objects.filter(published_at=None).update(published_at=timezone.now())
    [row] = _append(1)
    OutboxMessage.objects.filter(id=row.id).update(attempts=3)
    client = FakeProducer(FakeBroker(), fail=lambda topic, value: error)

    # when it fails again, and again
    _relay(client)
    after_four = OutboxMessage.objects.get(id=row.id)
    OutboxMessage.objects.filter(id=row.id).update(next_attempt_at=None, failed_at=None)
    _relay(client)
    after_five = OutboxMessage.objects.get(id=row.id)

    # then the wait doubles (8 s, then 16 s), never beyond the cap of its kind of failure: once
    # the broker is back, the outbox resumes within seconds, not a minute
    def waits(row: OutboxMessage) -> float:
        return (row.next_attempt_at - timezone.now()).total_seconds()

    assert min(8, longest_wait) - 2 < waits(after_four) <= min(8, longest_wait)
    assert min(16, longest_wait) - 2 < waits(after_five) <= min(16, longest_wait)


def test_a_row_backing_off_holds_back_the_rows_after_it():
    # given the oldest pending row waits for its next attempt
    rows = _append(2)
    OutboxMessage.objects.filter(published_at=None).exclude(id__in=[r.id for r in rows]).update(
        published_at=timezone.now()
    )
    OutboxMessage.objects.filter(id=rows[0].id).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    broker = FakeBroker()

    # when
    result = _relay(FakeProducer(broker))

    # then nothing is sent out of order
    assert result.backing_off and result.published == 0
    assert broker.values(events_config().publish_topic) == []
    assert _states(rows) == [(False, 0, False), (False, 0, False)]


def test_a_message_kafka_refuses_is_parked_after_the_last_attempt_and_the_rest_flows():
    # given a row Kafka refuses outright, and one behind it
    [big, small] = _append(2)
    refused = str(big.event_id).encode()
    client = FakeProducer(FakeBroker(), fail=lambda t, v: TOO_LARGE if refused in v else None)
    max_attempts = events_config().outbox_max_attempts

    # when the relay runs until the row is parked, its backoff skipped each time
    for _ in range(max_attempts):
        OutboxMessage.objects.filter(id=big.id).update(next_attempt_at=None)
        _relay(client)

    # then the row is parked as failed with its error, and the next one was published
    parked = OutboxMessage.objects.get(id=big.id)
    assert parked.status == "failed" and parked.attempts == max_attempts
    assert parked.last_error == str(TOO_LARGE)
    assert _states([small]) == [(True, 0, False)]
    assert relay_outbox(producer=_producer(client)).published == 0  # parked rows stay put


def test_a_message_refused_before_it_was_queued_counts_as_failed():
    [row] = _append(1)
    refused = str(row.event_id).encode()
    client = FakeProducer(FakeBroker(), refuse=lambda t, v: TOO_LARGE if refused in v else None)

    result = _relay(client)

    assert result.failed == 1
    assert _states([row]) == [(False, 1, False)]


def test_no_delivery_report_before_the_flush_timeout_is_a_failure_to_retry():
    rows = _append(2)

    result = _relay(FakeProducer(FakeBroker(), acknowledge=False))

    assert result.published == 0 and result.failed >= 2
    assert _states(rows) == [(False, 1, False)] * 2


def test_a_full_local_queue_is_drained_through_delivery_reports_and_nothing_is_lost():
    rows = _append(5)
    broker = FakeBroker()
    client = FakeProducer(broker, queue_size=2)

    result = _relay(client)

    assert client.buffer_errors > 0
    assert result.failed == 0
    assert _states(rows) == [(True, 0, False)] * 5


def test_a_batch_takes_the_oldest_rows_and_the_drain_goes_on_until_none_is_left():
    rows = _append(5)
    broker = FakeBroker()
    client = FakeProducer(broker)

    first = _relay(client, batch_size=2)
    assert first.published == 2
    assert relay_outbox(producer=_producer(client)).failed == 0

    assert _states(rows) == [(True, 0, False)] * 5
    assert _pending_ids() == []
