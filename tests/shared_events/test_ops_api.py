"""The staff ops API: messaging status with consumer lag from Kafka (and a clear answer when
Kafka is away), dead letters newest first, and their replay to the group's retry topic."""

import dataclasses
import time
import uuid
from datetime import timedelta

import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, TopicPartition
from django.utils import timezone
from rest_framework.test import APIClient

from shared_events.contracts import OrderCancelledIntegrationEvent
from shared_events.django import ops
from shared_events.django.conf import events_config
from shared_events.django.models import DeadLetter, OutboxMessage
from shared_events.django.outbox import outbox_append
from shared_events.kafka.admin import topics_ensure
from shared_events.topics import dead_letter_group
from tests.support.kafka import produce_raw
from tests.support.ops import dead_letter_create, replays_to_fake_kafka
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> APIClient:
    api = APIClient()
    token = access_token(9001, username="stan", is_staff=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def _commit(settings, *, group: str, topic: str, offset: int) -> None:
    """Commit `offset` on partition 0 of `topic` for `group`, as a consumer that read so far."""
    consumer = Consumer({**settings.client_config(), "group.id": group})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        consumer.close()


def test_status_counts_the_outbox_backlog_and_the_dead_letters(staff, monkeypatch):
    # given two pending rows (the older one 90 s old), one parked as failed, one published
    rows = outbox_append(
        *[OrderCancelledIntegrationEvent(order_id=uuid.uuid4()) for _ in range(4)],
        correlation_id="ops-status",
    )
    ids = [row.id for row in rows]
    OutboxMessage.objects.filter(id=ids[0]).update(
        created_at=timezone.now() - timedelta(seconds=90)
    )
    OutboxMessage.objects.filter(id=ids[2]).update(failed_at=timezone.now())
    OutboxMessage.objects.filter(id=ids[3]).update(published_at=timezone.now())
    # and two dead letters, one of them replayed
    dead_letter_create(offset=1)
    dead_letter_create(offset=2, replayed_at=timezone.now(), replay_count=1)
    monkeypatch.setattr(ops, "consumer_lag", lambda: ops.KafkaLag(True, "", []))

    # when
    body = staff.get("/api/ops/status/").json()

    # then
    assert body["service"] == events_config().service_name
    assert body["outbox"]["pending"] == 2 and body["outbox"]["failed"] == 1
    assert 90 <= body["outbox"]["oldest_pending_age_seconds"] < 120
    assert body["dead_letters"] == {"unreplayed": 1, "total": 2}


@pytest.mark.kafka
def test_status_gives_each_groups_lag_per_topic_from_kafka(staff, kafka_settings, monkeypatch):
    # given a topic of its own that the service's group read 2 of 5 messages of
    topic = f"{kafka_settings.namespace}ops-{uuid.uuid4().hex[:8]}"
    group = f"{kafka_settings.namespace}ops-group-{uuid.uuid4().hex[:6]}"
    config = dataclasses.replace(events_config(), consume_topics=[topic], consumer_group=group)
    monkeypatch.setattr(ops, "events_config", lambda: config)
    topics_ensure(kafka_settings, [topic, config.replay_topic])
    for n in range(5):
        produce_raw(kafka_settings, topic, f"m{n}".encode(), partition=0)
    _commit(kafka_settings, group=group, topic=topic, offset=2)

    # when
    kafka = staff.get("/api/ops/status/").json()["kafka"]

    # then
    assert kafka["reachable"] is True and kafka["error"] == ""
    groups = {g["group"]: g for g in kafka["groups"]}
    assert set(groups) == {group, dead_letter_group(group)}
    assert groups[group]["lag"] == 3
    assert groups[group]["topics"] == [{"topic": topic, "lag": 3}]
    assert groups[group]["members"] == 0
    assert groups[dead_letter_group(group)]["topics"] == []  # it never read anything


def test_status_says_so_when_kafka_does_not_answer(staff, monkeypatch):
    # given a broker address where nothing listens
    config = events_config()
    away = dataclasses.replace(
        config, kafka=dataclasses.replace(config.kafka, bootstrap_servers="127.0.0.1:9")
    )
    monkeypatch.setattr(ops, "events_config", lambda: away)

    # when
    started = time.monotonic()
    response = staff.get("/api/ops/status/")

    # then the rest is still there, and the answer came within the status timeout
    assert response.status_code == 200
    kafka = response.json()["kafka"]
    assert kafka["reachable"] is False and kafka["groups"] == []
    assert kafka["error"].startswith("Kafka did not answer")
    assert response.json()["outbox"]["pending"] == 0
    assert time.monotonic() - started < ops.KAFKA_STATUS_TIMEOUT_SECONDS + 3


def test_dead_letters_are_listed_newest_first_in_pages(staff):
    letters = [dead_letter_create(offset=n) for n in range(3)]
    DeadLetter.objects.filter(id=letters[1].id).update(replayed_at=timezone.now())

    first = staff.get("/api/ops/dead-letters/", {"page_size": 2}).json()
    second = staff.get("/api/ops/dead-letters/", {"page_size": 2, "page": 2}).json()
    unreplayed = staff.get("/api/ops/dead-letters/", {"replayed": "false"}).json()

    assert first["count"] == 3
    assert [d["id"] for d in first["results"] + second["results"]] == [
        letters[2].id,
        letters[1].id,
        letters[0].id,
    ]
    newest = first["results"][0]
    assert newest["event_type"] == "OrderCreatedIntegrationEvent"
    assert newest["error_class"] == "EventRejectedError"
    assert newest["key_text"] == "order-2" and '"e-2"' in newest["value_text"]
    assert [d["id"] for d in unreplayed["results"]] == [letters[2].id, letters[0].id]


def test_a_bad_filter_is_a_field_error(staff):
    response = staff.get("/api/ops/dead-letters/", {"replayed": "perhaps"})

    assert response.status_code == 400
    assert "replayed" in response.json()


def test_replay_sends_the_original_bytes_to_the_groups_retry_topic_and_marks_it(staff, monkeypatch):
    # given
    letter = dead_letter_create(offset=7)
    other = dead_letter_create(offset=8)
    broker = replays_to_fake_kafka(monkeypatch)

    # when
    response = staff.post(f"/api/ops/dead-letters/{letter.id}/replay/")

    # then only that one went, byte for byte, without the failure's headers
    assert response.status_code == 200, response.content
    assert response.json()["replay_count"] == 1 and response.json()["replayed_at"]
    [sent] = broker.messages(events_config().replay_topic)
    assert sent.value() == bytes(letter.value) and sent.key() == b"order-7"
    names = [name for name, _ in sent.headers()]
    assert "event_type" in names and "dlq.attempts" not in names
    other.refresh_from_db()
    assert other.replayed_at is None


def test_a_replay_kafka_does_not_acknowledge_is_a_503_and_leaves_it_unreplayed(staff, monkeypatch):
    letter = dead_letter_create()
    replays_to_fake_kafka(
        monkeypatch,
        fail=lambda topic, value: KafkaError(KafkaError._MSG_TIMED_OUT, "Message timed out"),
    )

    response = staff.post(f"/api/ops/dead-letters/{letter.id}/replay/")

    assert response.status_code == 503
    assert "try again" in response.json()["message"]
    assert "timed out" in response.json()["extra"]["error"]
    letter.refresh_from_db()
    assert letter.replayed_at is None and "timed out" in letter.last_replay_error


def test_replaying_a_dead_letter_that_does_not_exist_is_a_404(staff, monkeypatch):
    broker = replays_to_fake_kafka(monkeypatch)

    response = staff.post("/api/ops/dead-letters/999999/replay/")
    huge = staff.post(f"/api/ops/dead-letters/{2**70}/replay/")

    assert response.status_code == 404 and huge.status_code == 404
    assert broker.logs == {}


def test_the_schema_documents_the_ops_api(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    status = schema["paths"]["/api/ops/status/"]["get"]["responses"]
    replay = schema["paths"]["/api/ops/dead-letters/{letter_id}/replay/"]["post"]["responses"]
    assert {"200", "401", "403"} <= set(status)
    assert {"200", "401", "403", "404", "503"} <= set(replay)
    assert "replayed" in [
        p["name"] for p in schema["paths"]["/api/ops/dead-letters/"]["get"]["parameters"]
    ]
