"""Dead letters: stored from the dead-letter topic once, whatever their headers hold,
browsable, and replayed to the consumer group's own retry topic."""

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
from shared_events.topics import ORDER_EVENTS, dead_letter_topic, topic_name
from tests.support.kafka import header, produce_raw, read_topic

pytestmark = [pytest.mark.django_db, pytest.mark.kafka]


@pytest.fixture
def topic(kafka_settings):
    name = f"{kafka_settings.namespace}dlq-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [name, dead_letter_topic(name)])
    return name


def _consume(settings, topic: str, group: str, process, until) -> None:
    loop = ConsumerLoop(settings=settings, group_id=group, topics=[topic], process=process)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not until():
        assert time.monotonic() < deadline, "the consumer did not get there in time"
        time.sleep(0.05)
    loop.stop()
    thread.join(timeout=30)


def _dead_letters(settings, topic: str, marker: bytes, count: int = 1) -> list[Message]:
    def mine(messages: list[Message]) -> list[Message]:
        return [m for m in messages if m.key() == marker]

    return mine(
        read_topic(settings, dead_letter_topic(topic), until=lambda ms: len(mine(ms)) >= count)
    )


def _poison(settings, topic: str) -> tuple[bytes, list[Message]]:
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


def _dead_letters_present(settings, topic: str) -> bool:
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
    replay_topic = events_config().replay_topic

    # when it is replayed
    result = dead_letter_replay(ids=[letter.id])

    # then the original bytes, key and headers are on the group's own retry topic (which it
    # owns and reads: replay needs no right to write the other service's topic)
    assert result.replayed == [letter.id] and not result.failed
    letter.refresh_from_db()
    assert letter.replayed_at is not None and letter.replay_count == 1
    [original] = [m for m in read_topic(kafka_settings, topic, until=bool) if m.key() == marker]
    [replayed] = _marked(kafka_settings, replay_topic, marker)
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
        replay_topic,
        group,
        lambda m: handled.append(m.key()) if header(m, "dlq.replay.of") == marker_at else None,
        lambda: handled == [marker],
    )


def _marked(settings, topic: str, marker: bytes, count: int = 1) -> list[Message]:
    def mine(messages: list[Message]) -> list[Message]:
        return [m for m in messages if m.key() == marker]

    return mine(read_topic(settings, topic, until=lambda ms: len(mine(ms)) >= count))


def test_replay_never_goes_where_a_header_says(kafka_settings, topic):
    # given a dead letter whose headers name another service's topic as its origin
    other = topic_name(ORDER_EVENTS, namespace=kafka_settings.namespace)
    assert other != events_config().replay_topic
    marker = uuid.uuid4().hex.encode()
    produce_raw(
        kafka_settings,
        dead_letter_topic(topic),
        b"{}",
        key=marker,
        headers=[("dlq.original.topic", other.encode()), ("dlq.consumer.group", b"x")],
    )
    [dead] = _marked(kafka_settings, dead_letter_topic(topic), marker)
    letter = dead_letter_store(dead)
    assert letter is not None and letter.original_topic == other

    # when it is replayed, by the command and the admin's service alike
    assert dead_letter_replay(ids=[letter.id]).replayed == [letter.id]

    # then it went to the group's replay topic, and not to the one the header named
    assert len(_marked(kafka_settings, events_config().replay_topic, marker)) == 1
    fence = uuid.uuid4().hex.encode()  # once this is read, anything sent before it was too
    produce_raw(kafka_settings, other, b"{}", key=fence)
    seen = read_topic(kafka_settings, other, until=lambda ms: any(m.key() == fence for m in ms))
    assert not [m for m in seen if m.key() == marker]


@pytest.mark.django_db(transaction=True)  # the consumer stores from its own thread
def test_headers_too_long_for_their_columns_or_holding_nuls_are_stored_cut_and_cleaned(
    kafka_settings, topic
):
    # given dead letters with NULs and over-long values in every header the store reads,
    # then a plain one, in one partition
    dlq = dead_letter_topic(topic)
    long = "x" * 5000
    odd = [
        ("dlq.original.topic", f"{topic}\x00{long}"),
        ("dlq.consumer.group", long),
        ("dlq.error.class", f"Error\x00{long}"),
        ("dlq.error.message", f"why\x00{long}"),
        ("dlq.original.partition", "99999999999999999999"),
        ("dlq.failed_at", "not a time\x00"),
        ("event_type", f"Type\x00{long}"),
        ("correlation_id", long),
        ("event_id", long),
        ("name", "va\x00lue"),
    ]
    markers = [uuid.uuid4().hex.encode() for _ in range(2)]
    produce_raw(
        kafka_settings,
        dlq,
        b"\x00not json",
        key=markers[0],
        headers=[(k, v.encode()) for k, v in odd],
        partition=0,
    )
    produce_raw(kafka_settings, dlq, b"{}", key=markers[1], partition=0)

    # when the dead-letter consumer stores them
    _consume(
        kafka_settings,
        dlq,
        f"{kafka_settings.namespace}store-{uuid.uuid4().hex[:6]}",
        dead_letter_store,
        lambda: DeadLetter.objects.count() == 2,
    )

    # then both are stored: the odd one with its headers cut to fit and without NULs
    odd_letter = DeadLetter.objects.get(message_key=markers[0])
    assert odd_letter.original_topic == (topic + long)[:255]
    assert odd_letter.consumer_group == long[:255]
    assert odd_letter.error_class == ("Error" + long)[:200]
    assert odd_letter.error_message == "why" + long
    assert odd_letter.original_partition is None and odd_letter.failed_at is None
    assert odd_letter.event_type == ("Type" + long)[:200]
    assert odd_letter.correlation_id == odd_letter.event_id == long[:100]
    assert ["name", "value"] in odd_letter.headers
    assert bytes(odd_letter.value) == b"\x00not json"
    assert DeadLetter.objects.filter(message_key=markers[1]).exists()


@pytest.mark.django_db(transaction=True)  # the consumer stores from its own thread
def test_a_dead_letter_that_cannot_be_stored_as_parsed_is_stored_raw(kafka_settings, topic):
    # given a dead letter whose attempts no column can hold, then a plain one
    dlq = dead_letter_topic(topic)
    markers = [uuid.uuid4().hex.encode() for _ in range(2)]
    produce_raw(
        kafka_settings,
        dlq,
        b"original bytes",
        key=markers[0],
        headers=[("dlq.attempts", b"-1"), ("dlq.original.topic", topic.encode())],
        partition=0,
    )
    produce_raw(kafka_settings, dlq, b"{}", key=markers[1], partition=0)

    # when the dead-letter consumer stores them
    _consume(
        kafka_settings,
        dlq,
        f"{kafka_settings.namespace}store-{uuid.uuid4().hex[:6]}",
        dead_letter_store,
        lambda: DeadLetter.objects.count() == 2,
    )

    # then the first is kept raw, with why, and the partition moved on to the next
    raw = DeadLetter.objects.get(message_key=markers[0])
    assert bytes(raw.value) == b"original bytes"
    assert raw.error_message.startswith("stored raw") and raw.headers == []
    assert (raw.topic, raw.partition) == (dlq, 0)
    assert DeadLetter.objects.filter(message_key=markers[1]).exists()


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
