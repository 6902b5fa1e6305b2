"""When the consumer commits its offsets: a commit failed by a rebalance is tried again,
and partitions taken away in a rebalance are committed first."""

import math
import threading
import time
import uuid

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.topics import dead_letter_topic
from tests.support.kafka import produce_raw

pytestmark = pytest.mark.kafka


def _committed(settings, group: str, topic: str) -> dict[int, int]:
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(settings.client_config())
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    return {
        tp.partition: tp.offset
        for tp in result.result().topic_partitions
        if tp.topic == topic and tp.offset >= 0
    }


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(0.05)


class RebalancingConsumer:
    """A Kafka consumer whose first offset commit fails as it does during a rebalance."""

    def __init__(self, config: dict) -> None:
        self.messages = [Message(topic="orders", partition=0, offset=7, key=b"k", value=b"v")]
        self.failed: list[list[TopicPartition]] = []
        self.committed: list[list[tuple[str, int, int]]] = []

    def subscribe(self, topics: list[str], **callbacks: object) -> None:
        pass

    def poll(self, timeout: float) -> Message | None:
        if self.messages:
            return self.messages.pop(0)
        time.sleep(0.01)
        return None

    def consume(self, count: int, timeout: float) -> list[Message]:
        return []

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        if not self.failed:
            self.failed.append(offsets)
            raise KafkaException(KafkaError(KafkaError.REBALANCE_IN_PROGRESS))
        self.committed.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])

    def assignment(self) -> list[TopicPartition]:
        return []

    def close(self) -> None:
        pass


def test_a_commit_failed_by_a_rebalance_is_retried_not_fatal(kafka_settings):
    # given a consumer whose first commit fails with REBALANCE_IN_PROGRESS
    fake = RebalancingConsumer({})
    processed: list[bytes] = []
    loop = ConsumerLoop(
        settings=kafka_settings,
        group_id="g",
        topics=["orders"],
        process=lambda m: processed.append(m.value()),
        new_consumer=lambda config: fake,
    )
    thread = threading.Thread(target=loop.run, daemon=True)

    # when it processes a message and commits on its usual schedule
    thread.start()
    try:
        _wait_for(lambda: fake.committed, "a commit after the failed one")
    finally:
        loop.stop()
        thread.join(timeout=30)

    # then the loop lived on and committed the same offset again, before stopping
    assert processed == [b"v"]
    assert [(tp.topic, tp.partition, tp.offset) for tp in fake.failed[0]] == [("orders", 0, 8)]
    assert fake.committed[0] == [("orders", 0, 8)]


def test_partitions_taken_away_by_a_rebalance_are_committed_first(kafka_settings):
    # given a consumer that has processed every message but committed none (periodic
    # commits are off for both members here, so only a revocation can commit)
    topic = f"{kafka_settings.namespace}revoke-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [topic, dead_letter_topic(topic)])
    for i in range(24):
        produce_raw(kafka_settings, topic, f"old-{i}".encode(), key=f"key-{i}".encode())
    group = f"{kafka_settings.namespace}group-{uuid.uuid4().hex[:6]}"
    done: dict[int, int] = {}
    seen: dict[str, list[bytes]] = {"first": [], "second": []}

    def member(name: str) -> ConsumerLoop:
        def process(message: Message) -> None:
            seen[name].append(message.value())
            if name == "first":
                done[message.partition()] = message.offset() + 1

        loop = ConsumerLoop(
            settings=kafka_settings, group_id=group, topics=[topic], process=process
        )
        loop._next_commit_at = math.inf
        return loop

    first, second = member("first"), member("second")
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in (first, second)]
    threads[0].start()
    try:
        _wait_for(lambda: len(seen["first"]) == 24, "the first consumer processing everything")
        assert _committed(kafka_settings, group, topic) == {}

        # when a second member joins and the group moves partitions to it
        threads[1].start()
        _wait_for(lambda: _committed(kafka_settings, group, topic), "a commit on revoke")
        for i in range(24):
            produce_raw(kafka_settings, topic, f"new-{i}".encode(), key=f"key-{i}".encode())
        _wait_for(
            lambda: sum(v.startswith(b"new") for vs in seen.values() for v in vs) == 24,
            "the new messages processed",
        )

        # then the first member committed what it had processed on each partition it lost,
        # while still running, and the second member got none of it again
        assert threads[0].is_alive()
        committed = _committed(kafka_settings, group, topic)
        assert committed == {p: done[p] for p in committed}
        assert seen["second"] and not [v for v in seen["second"] if v.startswith(b"old")]
    finally:
        for loop, thread in zip((second, first), reversed(threads), strict=True):
            loop.stop()
            if thread.is_alive():
                thread.join(timeout=30)
