"""`kafka_status` reads topics, groups, committed and end offsets and lag from the broker."""

import json
import uuid
from concurrent.futures import Future
from types import SimpleNamespace

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import OffsetSpec
from django.core.management import call_command

from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.status import _offsets, cluster_status
from tests.support.kafka import produce_raw

pytestmark = pytest.mark.kafka


def _consume_and_commit(settings, group: str, topic: str, count: int) -> None:
    consumer = Consumer(
        {
            **settings.client_config(),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    taken = 0
    try:
        while taken < count:
            message = consumer.poll(5)
            assert message is not None, "nothing to consume"
            consumer.commit(message=message, asynchronous=False)
            taken += 1
    finally:
        consumer.close()


def test_lag_is_end_offset_minus_committed_offset(kafka_settings):
    # given five messages on one partition, of which a group committed two
    topic = f"{kafka_settings.namespace}status-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [topic])
    for n in range(5):
        produce_raw(kafka_settings, topic, f"m{n}".encode(), key=b"same-key")
    group = f"{kafka_settings.namespace}status-group-{uuid.uuid4().hex[:6]}"
    _consume_and_commit(kafka_settings, group, topic, 2)

    # when
    status = cluster_status(kafka_settings, topics=[topic], groups=[group])

    # then
    [topic_status] = status.topics
    assert topic_status.exists and topic_status.messages == 5
    assert len(topic_status.partitions) == kafka_settings.topic_partitions
    [group_status] = status.groups
    busy = [p for p in group_status.partitions if p.end]
    assert [(p.committed, p.end, p.lag) for p in busy] == [(2, 5, 3)]
    assert group_status.lag == 3
    assert group_status.members == []  # the consumer has left


def test_command_prints_json_for_machines_and_a_table_for_people(kafka_settings, capsys):
    call_command("kafka_status", "--json")
    data = json.loads(capsys.readouterr().out)
    names = {t["name"] for t in data["topics"]}
    assert f"{kafka_settings.namespace}order-events" in names
    assert f"{kafka_settings.namespace}inventory-events.dlq" in names
    assert {g["group"] for g in data["groups"]} >= {
        f"{kafka_settings.namespace}order-service",
        f"{kafka_settings.namespace}inventory-service.dead-letters",
    }
    assert all({"lag", "state", "members", "partitions"} <= set(g) for g in data["groups"])

    call_command("kafka_status")
    text = capsys.readouterr().out
    assert "LEADER" in text and "ISR" in text and "total lag" in text
    assert f"{kafka_settings.namespace}order-events" in text
    assert f"GROUP {kafka_settings.namespace}order-service" in text


class _LeaderMovingOnce:
    """An admin client whose first answer for each partition is NOT_LEADER_FOR_PARTITION."""

    def __init__(self) -> None:
        self.asked: list[list[TopicPartition]] = []

    def list_offsets(self, requests, request_timeout):
        self.asked.append(list(requests))
        futures = {}
        for tp in requests:
            future: Future = Future()
            if len(self.asked) == 1:
                future.set_exception(
                    KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))
                )
            else:
                future.set_result(SimpleNamespace(offset=7))
            futures[tp] = future
        return futures


def test_offsets_are_asked_again_while_a_leader_moves():
    admin = _LeaderMovingOnce()
    partitions = [TopicPartition("orders", 0), TopicPartition("orders", 1)]

    offsets = _offsets(admin, partitions, OffsetSpec.latest(), timeout=5)

    assert offsets == {("orders", 0): 7, ("orders", 1): 7}
    assert len(admin.asked) == 2


def test_an_error_that_is_not_a_moving_leader_is_raised_at_once():
    class Refusing(_LeaderMovingOnce):
        def list_offsets(self, requests, request_timeout):
            self.asked.append(list(requests))
            future: Future = Future()
            future.set_exception(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)))
            return dict.fromkeys(requests, future)

    admin = Refusing()
    with pytest.raises(KafkaException):
        _offsets(admin, [TopicPartition("orders", 0)], OffsetSpec.latest(), timeout=5)
    assert len(admin.asked) == 1
