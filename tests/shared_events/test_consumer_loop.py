"""The consumer loop against the real broker: commits, dead letters, transient retries."""

import itertools
import threading
import time
import uuid

import pytest
from confluent_kafka import KafkaError, Message
from confluent_kafka.admin import AdminClient

from shared_events.errors import EventDecodeError, TransientEventError
from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.consumer import ConsumerFatalError, ConsumerLoop, RetryPolicy
from shared_events.topics import dead_letter_topic
from tests.support.kafka import header, produce_raw, read_topic

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic(kafka_settings):
    name = f"{kafka_settings.namespace}loop-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [name, dead_letter_topic(name)])
    return name


def _run_until(loop: ConsumerLoop, done, timeout: float = 30.0) -> None:
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "consumer did not get there in time"
        time.sleep(0.05)
    loop.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def _committed(settings, group: str, topic: str) -> int:
    from confluent_kafka import ConsumerGroupTopicPartitions

    admin = AdminClient(settings.client_config())
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[
        group
    ].result()
    return sum(tp.offset for tp in result.topic_partitions if tp.topic == topic and tp.offset > 0)


def test_poison_message_is_dead_lettered_with_headers_and_the_rest_is_processed(
    kafka_settings, topic
):
    # given a poison message between two good ones, on one partition
    for value in (b"good-1", b"poison", b"good-2"):
        produce_raw(
            kafka_settings, topic, value, key=b"same-key", headers=[("event_type", b"Test")]
        )
    processed: list[bytes] = []

    def process(message: Message) -> None:
        if message.value() == b"poison":
            raise EventDecodeError("cannot read this")
        processed.append(message.value())

    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(settings=kafka_settings, group_id=group, topics=[topic], process=process)

    # when
    _run_until(loop, lambda: len(processed) == 2)

    # then
    assert processed == [b"good-1", b"good-2"]
    [dead] = read_topic(kafka_settings, dead_letter_topic(topic), until=lambda ms: len(ms) >= 1)
    assert dead.value() == b"poison" and dead.key() == b"same-key"
    assert header(dead, "dlq.error.class") == "EventDecodeError"
    assert header(dead, "dlq.error.message") == "cannot read this"
    assert header(dead, "dlq.consumer.group") == group
    assert header(dead, "dlq.original.topic") == topic
    assert header(dead, "dlq.original.offset") == "1"
    assert header(dead, "dlq.original.partition") is not None
    assert header(dead, "event_type") == "Test"  # original headers are kept
    assert _committed(kafka_settings, group, topic) == 3


def test_a_batch_with_a_poison_message_falls_back_to_one_by_one_and_loses_nothing(
    kafka_settings, topic
):
    # given a poison message among good ones on one partition, all there before the start
    values = [f"good-{i}".encode() for i in range(10)]
    values = [*values[:5], b"poison", *values[5:]]
    for value in values:
        produce_raw(kafka_settings, topic, value, key=b"same-key")
    processed: list[bytes] = []
    offered: list[list[bytes]] = []

    def process(message: Message) -> None:
        if message.value() == b"poison":
            raise EventDecodeError("cannot read this")
        processed.append(message.value())

    def process_batch(messages: list[Message]) -> None:
        # all or nothing, as one database transaction would be
        offered.append([m.value() for m in messages])
        if any(m.value() == b"poison" for m in messages):
            raise EventDecodeError("cannot read this")
        processed.extend(m.value() for m in messages)

    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(
        settings=kafka_settings,
        group_id=group,
        topics=[topic],
        process=process,
        process_batch=process_batch,
    )

    # when
    _run_until(loop, lambda: len(processed) == 10 and _committed(kafka_settings, group, topic))

    # then the batch holding the poison was offered whole first, every good message is
    # applied once, in order, and only the poison is dead-lettered
    assert any(b"poison" in batch for batch in offered)
    assert processed == [v for v in values if v != b"poison"]
    [dead] = read_topic(kafka_settings, dead_letter_topic(topic), until=lambda ms: len(ms) >= 1)
    assert dead.value() == b"poison"
    assert _committed(kafka_settings, group, topic) == 11


def test_a_clean_batch_is_applied_whole(kafka_settings, topic):
    for i in range(20):
        produce_raw(kafka_settings, topic, f"m-{i}".encode(), key=b"k")
    batches: list[list[bytes]] = []
    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(
        settings=kafka_settings,
        group_id=group,
        topics=[topic],
        process=lambda m: batches.append([m.value()]),
        process_batch=lambda ms: batches.append([m.value() for m in ms]),
    )

    _run_until(loop, lambda: sum(map(len, batches)) == 20)

    assert [v for batch in batches for v in batch] == [f"m-{i}".encode() for i in range(20)]
    assert max(map(len, batches)) > 1  # fetched together, applied together
    assert _committed(kafka_settings, group, topic) == 20


def test_transient_failure_is_retried_without_skipping_the_message(kafka_settings, topic):
    produce_raw(kafka_settings, topic, b"flaky", key=b"k")
    attempts: list[int] = []

    def process(message: Message) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientEventError("database restarting")

    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(
        settings=kafka_settings,
        group_id=group,
        topics=[topic],
        process=process,
        retry=RetryPolicy(attempts=5, first_backoff=0.01, max_backoff=0.05),
    )
    _run_until(loop, lambda: len(attempts) >= 3)
    assert len(attempts) == 3
    assert _committed(kafka_settings, group, topic) == 1


def test_uncommitted_work_is_redelivered_to_the_next_consumer(kafka_settings, topic):
    # given a consumer that stops while the database stays unavailable
    produce_raw(kafka_settings, topic, b"needs-db", key=b"k")
    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    failures: list[int] = []

    def failing(message: Message) -> None:
        failures.append(1)
        raise TransientEventError("database down")

    retry = RetryPolicy(attempts=2, first_backoff=0.01, max_backoff=0.05)
    _run_until(
        ConsumerLoop(
            settings=kafka_settings, group_id=group, topics=[topic], process=failing, retry=retry
        ),
        lambda: len(failures) >= 2,
    )

    # when a new consumer of the same group starts
    seen: list[bytes] = []
    _run_until(
        ConsumerLoop(
            settings=kafka_settings,
            group_id=group,
            topics=[topic],
            process=lambda m: seen.append(m.value()),
            retry=retry,
        ),
        lambda: bool(seen),
    )

    # then the message was neither lost nor dead-lettered
    assert seen == [b"needs-db"]
    assert _committed(kafka_settings, group, topic) == 1


def test_persistent_failures_pause_consumption_then_it_resumes_by_itself(kafka_settings, topic):
    # given a database that is down for the first several attempts
    for value in (b"one", b"two"):
        produce_raw(kafka_settings, topic, value, key=b"k")
    calls: list[float] = []
    done: list[bytes] = []

    def process(message: Message) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 4:
            raise TransientEventError("database down")
        done.append(message.value())

    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    retry = RetryPolicy(attempts=2, first_backoff=0.01, max_backoff=0.01, first_pause=0.5)
    loop = ConsumerLoop(
        settings=kafka_settings, group_id=group, topics=[topic], process=process, retry=retry
    )

    # when
    _run_until(loop, lambda: len(done) == 2)

    # then both messages were applied, in order, after two pauses of growing length
    assert done == [b"one", b"two"]
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[1] >= 0.5 and gaps[3] >= 1.0
    assert _committed(kafka_settings, group, topic) == 2


def test_a_fatal_client_error_ends_the_loop_so_the_process_restarts():
    fenced = KafkaError(KafkaError._FATAL, "static consumer fenced", fatal=True)
    with pytest.raises(ConsumerFatalError, match="fenced"):
        ConsumerLoop._log_client_error(fenced)
    ConsumerLoop._log_client_error(KafkaError(KafkaError._TRANSPORT, "broker down"))  # logged only
