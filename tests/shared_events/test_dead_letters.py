"""Dead letters: stored from the dead-letter topic once, browsable, replayed to the group's
retry topic."""

import threading
import time
import uuid

import pytest
from confluent_kafka import Message
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from shared_events.django.conf import events_config
from shared_events.django.dead_letters import dead_letter_replay, dead_letter_store
from shared_events.django.models import DeadLetter
from shared_events.errors import EventRejectedError
from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.topics import dead_letter_topic, retry_topic
from tests.support.kafka import header, produce_raw, read_topic

pytestmark = [pytest.mark.django_db, pytest.mark.kafka]


@pytest.fixture
def topic(kafka_settings):
    name = f"{kafka_settings.namespace}dlq-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [name, dead_letter_topic(name)])
    return name


def _consume(settings, topic: str, group: str, process, until) -> None:  # type: ignore[no-untyped-def]
    loop = ConsumerLoop(settings=settings, group_id=group, topics=[topic], process=process)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not until():
        assert time.monotonic() < deadline, "the consumer did not get there in time"
        time.sleep(0.05)
    loop.stop()
    thread.join(timeout=30)


def _dead_letters(settings, topic: str, marker: bytes, count: int = 1) -> list[Message]:  # type: ignore[no-untyped-def]
    def mine(messages: list[Message]) -> list[Message]:
        return [m for m in messages if m.key() == marker]

    return mine(
        read_topic(settings, dead_letter_topic(topic), until=lambda ms: len(mine(ms)) >= count)
    )


def _poison(settings, topic: str) -> tuple[bytes, list[Message]]:  # type: ignore[no-untyped-def]
    """A message the handler refuses, dead-lettered by a real consumer loop."""
    marker = uuid.uuid4().hex.encode()
    produce_raw(
        settings,
        topic,
        b'{"event_id": "not-read", "correlation_id": "order-' + marker + b'"}',
        key=marker,
        headers=[("event_type", b"OrderCreatedIntegrationEvent")],
    )
    group = f"{settings.namespace}dlq-group-{uuid.uuid4().hex[:6]}"

    def refuse_it(message: Message) -> None:
        raise EventRejectedError("handler refused it")

    _consume(settings, topic, group, refuse_it, lambda: _dead_letters_present(settings, topic))
    return marker, _dead_letters(settings, topic, marker)


def _dead_letters_present(settings, topic: str) -> bool:  # type: ignore[no-untyped-def]
    from shared_events.kafka.status import cluster_status

    status = cluster_status(settings, topics=[dead_letter_topic(topic)], groups=[])
    return status.topics[0].messages >= 1


def test_a_dead_letter_is_stored_once_with_its_reasons(kafka_settings, topic):
    marker, [dead] = _poison(kafka_settings, topic)

    stored = dead_letter_store(dead)
    again = dead_letter_store(dead)  # redelivered after a crash

    assert stored is not None and again is None
    assert DeadLetter.objects.count() == 1
    letter = DeadLetter.objects.get()
    assert letter.original_topic == topic
    assert letter.original_offset == 0 and letter.original_partition is not None
    assert letter.error_class == "EventRejectedError"
    assert letter.error_message == "handler refused it"
    assert letter.consumer_group.startswith(kafka_settings.namespace)
    assert letter.event_type == "OrderCreatedIntegrationEvent"
    assert letter.correlation_id == f"order-{marker.decode()}"
    assert bytes(letter.message_key) == marker and marker in bytes(letter.value)
    assert ["dlq.error.class", "EventRejectedError"] in letter.headers
    assert letter.replayed_at is None


def test_a_replayed_dead_letter_goes_to_the_groups_retry_topic_and_is_applied(
    kafka_settings, topic
):
    # given a stored dead letter whose cause has since been fixed
    marker, [dead] = _poison(kafka_settings, topic)
    letter = dead_letter_store(dead)
    assert letter is not None

    # when it is replayed
    result = dead_letter_replay(ids=[letter.id])

    # then the original bytes, key and headers are on the service's own retry topic (which
    # its group owns and reads: replay needs no right to write the other service's topic)
    assert result.replayed == [letter.id] and not result.failed
    letter.refresh_from_db()
    assert letter.replayed_at is not None and letter.replay_count == 1
    retries = retry_topic(events_config().consumer_group)
    [original] = [m for m in read_topic(kafka_settings, topic, until=bool) if m.key() == marker]
    [replayed] = [
        m
        for m in read_topic(
            kafka_settings, retries, until=lambda ms: any(m.key() == marker for m in ms)
        )
        if m.key() == marker
    ]
    assert replayed.value() == original.value()
    assert header(replayed, "event_type") == "OrderCreatedIntegrationEvent"
    assert header(replayed, "dlq.error.class") is None
    assert (
        header(replayed, "dlq.replay.of") == f"{dead.topic()}[{dead.partition()}]@{dead.offset()}"
    )

    # and a consumer that can handle it now processes it
    marker_at = f"{dead.topic()}[{dead.partition()}]@{dead.offset()}"
    handled: list[bytes] = []
    group = f"{kafka_settings.namespace}fixed-{uuid.uuid4().hex[:6]}"
    _consume(
        kafka_settings,
        retries,
        group,
        lambda m: handled.append(m.key()) if header(m, "dlq.replay.of") == marker_at else None,
        lambda: handled == [marker],
    )


def test_replay_command_chooses_by_id_or_every_unreplayed_one(kafka_settings, topic, capsys):
    _marker, [dead] = _poison(kafka_settings, topic)
    letter = dead_letter_store(dead)
    assert letter is not None

    call_command("replay_dead_letters", "--all-unreplayed", "--dry-run")
    assert "would replay 1" in capsys.readouterr().out
    assert DeadLetter.objects.get().replayed_at is None

    call_command("replay_dead_letters", "--id", str(letter.id))
    assert "replayed 1, failed 0" in capsys.readouterr().out

    call_command("replay_dead_letters", "--all-unreplayed")
    assert "replayed 0, failed 0" in capsys.readouterr().out
    assert DeadLetter.objects.get().replay_count == 1

    with pytest.raises(CommandError, match="no dead letter with id 999999"):
        call_command("replay_dead_letters", "--id", "999999")


def test_the_admin_lists_dead_letters_and_replays_them(kafka_settings, topic, client):
    marker, [dead] = _poison(kafka_settings, topic)
    letter = dead_letter_store(dead)
    assert letter is not None
    admin = get_user_model().objects.create_superuser("admin", password="admin-password")
    client.force_login(admin)

    listing = client.get("/admin/shared_events/deadletter/?replayed=no").content.decode()
    detail = client.get(f"/admin/shared_events/deadletter/{letter.id}/change/").content.decode()
    response = client.post(
        "/admin/shared_events/deadletter/",
        {"action": "replay", "_selected_action": [letter.id]},
        follow=True,
    )

    assert "EventRejectedError" in listing and topic in listing
    assert marker.decode() in detail and "dlq.consumer.group" in detail
    assert "1 dead letter(s) replayed" in response.content.decode()
    assert DeadLetter.objects.get().replayed_at is not None
