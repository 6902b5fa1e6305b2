"""`kafka_status` reads topics, groups, committed and end offsets and lag from the broker."""

import json
import uuid

import pytest
from confluent_kafka import Consumer
from django.core.management import call_command

from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.status import cluster_status
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
