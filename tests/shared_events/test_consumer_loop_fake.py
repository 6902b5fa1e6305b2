"""The consumer loop's logic on an in-memory Kafka: what it commits, retries, pauses and
dead-letters. The same loop against the real broker: test_consumer_loop.py."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from shared_events.errors import EventDecodeError, TransientEventError
from shared_events.headers import message_headers
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.consumer import ConsumerFatalError, ConsumerLoop, RetryPolicy
from shared_events.kafka.producer import EventProducer
from tests.support.fake_kafka import FakeBroker, FakeConsumer, FakeProducer

TOPIC = "orders"
DLQ = "orders.dlq"
QUICK = RetryPolicy(attempts=3, first_backoff=0.001, max_backoff=0.001, first_pause=0.05)


def _loop(
    broker: FakeBroker,
    consumer: FakeConsumer,
    process: Callable[[Message], object],
    *,
    producer: FakeProducer | None = None,
    **options: Any,
) -> ConsumerLoop:
    dead_letters = producer or FakeProducer(broker)
    return ConsumerLoop(
        settings=KafkaSettings(),
        group_id="group",
        topics=[TOPIC],
        process=process,
        poll_timeout=0.01,
        commit_interval=0,
        new_consumer=consumer,
        new_producer=lambda settings: EventProducer(settings, client=dead_letters),
        **options,
    )


def _run_until(loop: ConsumerLoop, done: Callable[[], bool], timeout: float = 10.0) -> None:
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the loop did not get there in time"
        time.sleep(0.002)
    loop.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _headers(message: Message) -> dict[str, str]:
    return {k: v.decode() for k, v in message_headers(message) if isinstance(v, bytes)}


def test_a_poison_message_is_dead_lettered_with_why_and_the_rest_is_committed():
    # given a poison message between two good ones
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    for value in (b"good-1", b"poison", b"good-2"):
        broker.append(TOPIC, value, key=b"k", headers=[("event_type", b"Test")])
    processed: list[bytes | None] = []

    def process(message: Message) -> None:
        if message.value() == b"poison":
            raise EventDecodeError("cannot read this")
        processed.append(message.value())

    # when
    _run_until(_loop(broker, consumer, process), lambda: consumer.committed == {(TOPIC, 0): 3})

    # then the poison is on the dead-letter topic, byte for byte, with why and where from
    assert processed == [b"good-1", b"good-2"]
    [dead] = broker.messages(DLQ)
    assert dead.value() == b"poison" and dead.key() == b"k"
    headers = _headers(dead)
    assert headers["dlq.error.class"] == "EventDecodeError"
    assert headers["dlq.error.message"] == "cannot read this"
    assert headers["dlq.consumer.group"] == "group"
    assert headers["dlq.original.topic"] == TOPIC
    assert (headers["dlq.original.partition"], headers["dlq.original.offset"]) == ("0", "1")
    assert headers["dlq.attempts"] == "1"
    assert headers["event_type"] == "Test"  # the original headers are kept
    assert consumer.closed


def test_a_batch_with_a_poison_message_is_applied_again_one_by_one_losing_nothing():
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    values = [b"good-0", b"good-1", b"poison", b"good-3", b"good-4"]
    for value in values:
        broker.append(TOPIC, value)
    offered: list[list[bytes | None]] = []
    processed: list[bytes | None] = []

    def process(message: Message) -> None:
        if message.value() == b"poison":
            raise EventDecodeError("cannot read this")
        processed.append(message.value())

    def process_batch(messages: list[Message]) -> None:
        offered.append([m.value() for m in messages])
        if any(m.value() == b"poison" for m in messages):
            raise EventDecodeError("cannot read this")  # all or nothing
        processed.extend(m.value() for m in messages)

    loop = _loop(broker, consumer, process, process_batch=process_batch)
    _run_until(loop, lambda: consumer.committed == {(TOPIC, 0): 5})

    assert offered[0] == values  # offered whole first
    assert processed == [v for v in values if v != b"poison"]
    assert broker.values(DLQ) == [b"poison"]


def test_a_clean_batch_is_applied_whole_and_committed_once():
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    for i in range(20):
        broker.append(TOPIC, f"m-{i}".encode())
    batches: list[list[bytes | None]] = []

    loop = _loop(
        broker,
        consumer,
        lambda m: batches.append([m.value()]),
        process_batch=lambda ms: batches.append([m.value() for m in ms]),
    )
    _run_until(loop, lambda: consumer.committed == {(TOPIC, 0): 20})

    assert batches == [[f"m-{i}".encode() for i in range(20)]]
    assert consumer.commits[0] == {(TOPIC, 0): 20}


def test_a_transient_failure_is_retried_in_place_without_skipping_the_message():
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    broker.append(TOPIC, b"flaky")
    broker.append(TOPIC, b"next")
    attempts: list[bytes | None] = []

    def process(message: Message) -> None:
        attempts.append(message.value())
        if len(attempts) < 3:
            raise TransientEventError("database restarting")

    _run_until(_loop(broker, consumer, process, retry=QUICK), lambda: len(attempts) == 4)

    assert attempts == [b"flaky", b"flaky", b"flaky", b"next"]
    assert consumer.committed == {(TOPIC, 0): 2}
    assert broker.values(DLQ) == []


def test_persistent_failures_rewind_pause_and_resume_then_apply_in_order():
    # given a database that is down for the first two rounds of retries
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    for value in (b"one", b"two"):
        broker.append(TOPIC, value)
    calls: list[float] = []
    done: list[bytes | None] = []

    def process(message: Message) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 2 * QUICK.attempts:
            raise TransientEventError("database down")
        done.append(message.value())

    # when
    _run_until(_loop(broker, consumer, process, retry=QUICK), lambda: len(done) == 2)

    # then nothing was skipped or dead-lettered, after two pauses, the second one longer
    assert done == [b"one", b"two"]
    assert (consumer.pauses, consumer.resumes) == (2, 2)
    first_pause = calls[QUICK.attempts] - calls[QUICK.attempts - 1]
    second_pause = calls[2 * QUICK.attempts] - calls[2 * QUICK.attempts - 1]
    assert first_pause >= QUICK.first_pause and second_pause >= 2 * QUICK.first_pause
    assert consumer.committed == {(TOPIC, 0): 2}
    assert broker.values(DLQ) == []


def test_a_message_that_cannot_be_dead_lettered_is_not_committed_but_tried_again():
    # given a dead-letter topic that refuses the first copy
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    broker.append(TOPIC, b"poison")
    refusals = [KafkaError(KafkaError._MSG_TIMED_OUT)]
    producer = FakeProducer(broker, fail=lambda topic, value: refusals.pop() if refusals else None)
    seen: list[bytes | None] = []

    def process(message: Message) -> None:
        seen.append(message.value())
        raise EventDecodeError("cannot read this")

    # when
    loop = _loop(broker, consumer, process, producer=producer, retry=QUICK)
    _run_until(loop, lambda: consumer.committed == {(TOPIC, 0): 1})

    # then it was read again, and committed only once its dead letter was acknowledged
    assert seen == [b"poison", b"poison"]
    assert broker.values(DLQ) == [b"poison"]


def test_a_deferred_commit_is_made_with_the_next_one():
    broker = FakeBroker()
    consumer = FakeConsumer(broker, fail_commits=1)
    broker.append(TOPIC, b"one")
    processed: list[bytes | None] = []

    _run_until(
        _loop(broker, consumer, lambda m: processed.append(m.value())),
        lambda: consumer.committed == {(TOPIC, 0): 1},
    )

    assert processed == [b"one"]


def test_stopping_commits_what_is_done_and_closes_the_clients():
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    producer = FakeProducer(broker)
    broker.append(TOPIC, b"one")
    processed: list[bytes | None] = []
    loop = _loop(broker, consumer, lambda m: processed.append(m.value()), producer=producer)
    loop._commit_interval = 3600  # only the final commit counts

    _run_until(loop, lambda: processed == [b"one"])

    assert consumer.committed == {(TOPIC, 0): 1} and consumer.closed
    assert producer.flushes >= 1  # the dead-letter producer was flushed on close


def test_a_fatal_client_error_ends_the_loop():
    broker = FakeBroker()
    consumer = FakeConsumer(broker)
    broker.append_error(TOPIC, KafkaError(KafkaError._FATAL, "fenced", fatal=True))
    loop = _loop(broker, consumer, lambda m: None)

    with pytest.raises(ConsumerFatalError, match="fenced"):
        loop.run()
    assert consumer.closed
