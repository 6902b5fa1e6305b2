"""Dead letters: stored from the dead-letter topics for browsing, and replayed on request.

The consumer loop puts a message it gives up on, byte for byte, on `<topic>.dlq` with
`dlq.*` headers saying why. `consume_dead_letters` stores each one here (once: its topic,
partition and offset are unique); `dead_letter_replay` sends the original bytes, key and
headers to the consuming group's own retry topic (`<group>.retry`), which the group also
consumes: the consumer tries again (and dedupes by event id if the event had been applied
after all), and the service needs no right to write the other service's topic.
"""

import dataclasses
import json
import logging
from collections.abc import Sequence
from datetime import datetime

from confluent_kafka import Message
from django.db import DatabaseError, connection
from django.db.models import F, QuerySet
from django.utils import timezone

from shared_events import headers
from shared_events.django.conf import events_config
from shared_events.django.models import DeadLetter
from shared_events.errors import TransientEventError
from shared_events.headers import Headers, message_headers
from shared_events.kafka.consumer import message_position
from shared_events.kafka.producer import EventProducer, OutgoingMessage
from shared_events.topics import retry_topic

logger = logging.getLogger(__name__)


def dead_letter_store(message: Message) -> DeadLetter | None:
    """Store one message read from a dead-letter topic; None if it was stored before."""
    text_headers = [(k, _text(v)) for k, v in message_headers(message)]
    dlq = {k: v for k, v in text_headers if k.startswith(headers.DEAD_LETTER_PREFIX)}
    plain = dict(text_headers)
    envelope = _envelope_fields(message.value())
    where = message_position(message)
    letter = DeadLetter(
        topic=where.topic,
        partition=where.partition,
        offset=where.offset,
        original_topic=dlq.get(headers.DLQ_ORIGINAL_TOPIC, ""),
        original_partition=_int(dlq.get(headers.DLQ_ORIGINAL_PARTITION)),
        original_offset=_int(dlq.get(headers.DLQ_ORIGINAL_OFFSET)),
        consumer_group=dlq.get(headers.DLQ_CONSUMER_GROUP, ""),
        error_class=dlq.get(headers.DLQ_ERROR_CLASS, "")[:200],
        error_message=dlq.get(headers.DLQ_ERROR_MESSAGE, ""),
        attempts=_int(dlq.get(headers.DLQ_ATTEMPTS)) or 0,
        failed_at=_datetime(dlq.get(headers.DLQ_FAILED_AT)),
        message_key=message.key(),
        value=message.value() or b"",
        headers=[[k, v] for k, v in text_headers],
        event_id=envelope.get("event_id") or plain.get(headers.EVENT_ID, ""),
        event_type=envelope.get("event_type") or plain.get(headers.EVENT_TYPE, ""),
        correlation_id=envelope.get("correlation_id") or plain.get(headers.CORRELATION_ID, ""),
    )
    position = {"topic": letter.topic, "partition": letter.partition, "offset": letter.offset}
    fields = {
        f.attname: getattr(letter, f.attname)
        for f in DeadLetter._meta.concrete_fields
        if not f.primary_key and f.attname not in position and f.attname != "received_at"
    }
    try:
        stored, created = DeadLetter.objects.get_or_create(**position, defaults=fields)
    except DatabaseError as exc:
        connection.close()
        raise TransientEventError(f"could not store dead letter: {exc}") from exc
    if not created:
        return None
    logger.warning(
        "dead letter from %s[%s]@%s stored: %s: %s",
        letter.original_topic,
        letter.original_partition,
        letter.original_offset,
        letter.error_class,
        letter.error_message[:200],
        extra={
            key: value
            for key, value in (
                ("event_id", letter.event_id),
                ("event_type", letter.event_type),
                ("correlation_id", letter.correlation_id),
            )
            if value
        },
    )
    return stored


@dataclasses.dataclass
class ReplayResult:
    replayed: list[int] = dataclasses.field(default_factory=list)
    failed: dict[int, str] = dataclasses.field(default_factory=dict)


def dead_letters_select(*, ids: Sequence[int] | None = None, unreplayed: bool = False) -> QuerySet:
    letters = DeadLetter.objects.order_by("id")
    if ids is not None:
        letters = letters.filter(id__in=ids)
    if unreplayed:
        letters = letters.filter(replayed_at__isnull=True)
    return letters


def dead_letter_replay(
    *,
    ids: Sequence[int] | None = None,
    unreplayed: bool = False,
    producer: EventProducer | None = None,
) -> ReplayResult:
    """Publish the chosen dead letters to their group's retry topic, in id order; mark the
    sent ones."""
    letters = [
        letter
        for letter in dead_letters_select(ids=ids, unreplayed=unreplayed)
        if letter.original_topic
    ]
    result = ReplayResult()
    if not letters:
        return result
    own = producer is None
    producer = producer or EventProducer(events_config().kafka)
    try:
        reports = producer.publish_batch([_replay_message(letter) for letter in letters])
    finally:
        if own:
            producer.close()
    for letter, report in zip(letters, reports, strict=True):
        if report.delivered:
            result.replayed.append(letter.id)
        else:
            result.failed[letter.id] = report.error
    if result.replayed:
        DeadLetter.objects.filter(id__in=result.replayed).update(
            replayed_at=timezone.now(), replay_count=F("replay_count") + 1, last_replay_error=""
        )
    for letter_id, error in result.failed.items():
        DeadLetter.objects.filter(id=letter_id).update(last_replay_error=error)
    logger.info("replayed %d dead letter(s), %d failed", len(result.replayed), len(result.failed))
    return result


def _replay_message(letter: DeadLetter) -> OutgoingMessage:
    # The original headers, without the previous failure's; where it came from is kept.
    kept: Headers = [
        (name, str(value).encode())
        for name, value in letter.headers
        if not str(name).startswith(headers.DEAD_LETTER_PREFIX)
    ]
    kept.append(
        (headers.DLQ_REPLAY_OF, f"{letter.topic}[{letter.partition}]@{letter.offset}".encode())
    )
    return OutgoingMessage(
        topic=replay_destination(letter),
        key=bytes(letter.message_key) if letter.message_key is not None else None,
        value=bytes(letter.value),
        headers=kept,
    )


def replay_destination(letter: DeadLetter) -> str:
    """The retry topic of the group that gave up on the letter: this service's own group."""
    return retry_topic(events_config().consumer_group)


def _envelope_fields(value: bytes | None) -> dict[str, str]:
    try:
        data = json.loads(value or b"")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: str(data[key])[:100]
        for key in ("event_id", "event_type", "correlation_id")
        if isinstance(data.get(key), str)
    }


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _datetime(raw: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
