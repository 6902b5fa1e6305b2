"""Two consumers of one group share the events topic, not the events topic against the
(empty) retry topic that every group also reads."""

import time
import uuid

import pytest
from confluent_kafka import Consumer

from shared_events.kafka.admin import topics_ensure
from shared_events.topics import retry_topic

pytestmark = pytest.mark.kafka


def test_two_consumers_of_a_group_each_get_events_partitions(kafka_settings):
    # given an events topic and the group's retry topic, created as the project creates them
    events = f"{kafka_settings.namespace}balance-{uuid.uuid4().hex[:8]}"
    group = f"{kafka_settings.namespace}balance-group-{uuid.uuid4().hex[:6]}"
    topics_ensure(kafka_settings, [events, retry_topic(group)])
    assignments: dict[int, set[tuple[str, int]]] = {0: set(), 1: set()}

    def tracker(member: int):
        def on_assign(consumer, partitions):
            assignments[member] |= {(p.topic, p.partition) for p in partitions}

        def on_revoke(consumer, partitions):
            assignments[member] -= {(p.topic, p.partition) for p in partitions}

        return {"on_assign": on_assign, "on_revoke": on_revoke}

    consumers = [Consumer(kafka_settings.consumer_config(group)) for _ in range(2)]
    try:
        # when both consume both topics, the second joining after the first was assigned
        consumers[0].subscribe([events, retry_topic(group)], **tracker(0))
        deadline = time.monotonic() + 60
        while not assignments[0] and time.monotonic() < deadline:
            consumers[0].poll(0.1)
        consumers[1].subscribe([events, retry_topic(group)], **tracker(1))
        while time.monotonic() < deadline and not (assignments[0] and assignments[1]):
            for consumer in consumers:
                consumer.poll(0.1)
        for _ in range(30):  # let the rebalance settle
            for consumer in consumers:
                consumer.poll(0.1)

        # then each holds partitions of the events topic
        held = {m: sorted(p for t, p in a if t == events) for m, a in assignments.items()}
        assert held[0] and held[1], f"events partitions by consumer: {held}; all: {assignments}"
    finally:
        for consumer in consumers:
            consumer.close()
