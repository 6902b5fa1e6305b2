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
from typing import Any

from confluent_kafka import Message
from django.db import DatabaseError, connection
from django.db.models import F, QuerySet
from django.utils import timezone

from shared_events import headers
from shared_events.django.conf import events_config
from shared_events.django.inbox import database_error_is_transient
from shared_events.django.models import DeadLetter
from shared_events.errors import TransientEventError
from shared_events.headers import Headers, message_headers
from shared_events.kafka.consumer import message_position
from shared_events.kafka.producer import EventProducer, OutgoingMessage

logger = logging.getLogger(__name__)


def dead_letter_store(message: Message) -> DeadLetter | None:
    """Store one message read from a dead-letter topic; None if it was stored before.

    Its headers say where it came from and why it failed; they are cut to fit their
    columns and cleared of NULs. If it still cannot be stored as parsed, it is stored raw
    (position, key, value), and if not even that, logged and skipped: one odd message never
    holds up its partition. Only a failure of the database itself is retried.
    """
    where = message_position(message)
    position = {"topic": where.topic, "partition": where.partition, "offset": where.offset}
    try:
        letter = _dead_letter_parse(message)
        return _dead_letter_insert(position, letter)
    except TransientEventError:
        raise
    except Exception as exc:  # noqa: BLE001 - stored raw below, whatever the header held
        logger.warning(
            "dead letter at %s[%s]@%s cannot be stored as parsed: %s: %s",
            where.topic,
            where.partition,
            where.offset,
            type(exc).__name__,
            exc,
        )
        reason = f"stored raw, its headers could not be: {type(exc).__name__}: {exc}"
    raw = DeadLetter(
        **position,
        original_topic="",
        error_message=_clean(reason, 2000),
        message_key=message.key(),
        value=message.value() or b"",
        headers=[],
    )
    try:
        return _dead_letter_insert(position, raw)
    except TransientEventError:
        raise
    except Exception:
        logger.exception(
            "dead letter at %s[%s]@%s skipped: it cannot be stored even raw",
            where.topic,
            where.partition,
            where.offset,
        )
        return None


def _dead_letter_parse(message: Message) -> DeadLetter:
    text_headers = [(_clean(k), _clean(v)) for k, v in message_headers(message)]
    dlq = {k: v for k, v in text_headers if k.startswith(headers.DEAD_LETTER_PREFIX)}
    plain = dict(text_headers)
    envelope = _envelope_fields(message.value())
    fields = {
        # where it came from, and why it failed
        "original_topic": dlq.get(headers.DLQ_ORIGINAL_TOPIC, ""),
        "original_partition": _int(dlq.get(headers.DLQ_ORIGINAL_PARTITION), bits=32),
        "original_offset": _int(dlq.get(headers.DLQ_ORIGINAL_OFFSET), bits=64),
        "consumer_group": dlq.get(headers.DLQ_CONSUMER_GROUP, ""),
        "error_class": dlq.get(headers.DLQ_ERROR_CLASS, ""),
        "error_message": dlq.get(headers.DLQ_ERROR_MESSAGE, ""),
        "attempts": _int(dlq.get(headers.DLQ_ATTEMPTS), bits=32) or 0,
        "failed_at": _datetime(dlq.get(headers.DLQ_FAILED_AT)),
        # what it was, from its envelope or else from its headers
        "event_id": envelope.get("event_id") or plain.get(headers.EVENT_ID, ""),
        "event_type": envelope.get("event_type") or plain.get(headers.EVENT_TYPE, ""),
        "correlation_id": envelope.get("correlation_id") or plain.get(headers.CORRELATION_ID, ""),
    }
    for name, value in fields.items():
        limit = DeadLetter._meta.get_field(name).max_length  # type: ignore[union-attr]
        if isinstance(value, str) and limit:
            fields[name] = value[:limit]
    return DeadLetter(
        message_key=message.key(),
        value=message.value() or b"",
        headers=[[k, v] for k, v in text_headers],
        **fields,
    )


def _dead_letter_insert(position: dict[str, Any], letter: DeadLetter) -> DeadLetter | None:
    fields = {
        f.attname: getattr(letter, f.attname)
        for f in DeadLetter._meta.concrete_fields
        if not f.primary_key and f.attname not in position and f.attname != "received_at"
    }
    try:
        stored, created = DeadLetter.objects.get_or_create(**position, defaults=fields)
    except DatabaseError as exc:
        if not database_error_is_transient(exc):
            raise
        connection.close()
        raise TransientEventError(f"could not store dead letter: {exc}") from exc
    if not created:
        return None
    logger.warning(
        "dead letter from %s[%s]@%s stored: %s: %s",
        stored.original_topic,
        stored.original_partition,
        stored.original_offset,
        stored.error_class,
        stored.error_message[:200],
        extra={
            key: value
            for key, value in (
                ("event_id", stored.event_id),
                ("event_type", stored.event_type),
                ("correlation_id", stored.correlation_id),
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


def dead_letter_list(*, replayed: bool | None = None) -> QuerySet[DeadLetter]:
    """Dead letters, newest first; only the replayed or the unreplayed ones if asked."""
    letters = DeadLetter.objects.order_by("-id")
    if replayed is not None:
        letters = letters.filter(replayed_at__isnull=not replayed)
    return letters


def dead_letter_replay(
    *,
    ids: Sequence[int] | None = None,
    unreplayed: bool = False,
    producer: EventProducer | None = None,
) -> ReplayResult:
    """Publish the chosen dead letters, in id order, to the consumer group's retry topic;
    mark the sent ones.

    The destination follows from the group (`EventsConfig.replay_topic`), never from a
    header of the message: a forged header cannot make a replay write anywhere else.
    """
    letters = list(dead_letters_select(ids=ids, unreplayed=unreplayed))
    result = ReplayResult()
    if not letters:
        return result
    config = events_config()
    own = producer is None
    producer = producer or EventProducer(config.kafka)
    try:
        reports = producer.publish_batch(
            [_replay_message(letter, topic=config.replay_topic) for letter in letters]
        )
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


def _replay_message(letter: DeadLetter, *, topic: str) -> OutgoingMessage:
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
        topic=topic,
        key=bytes(letter.message_key) if letter.message_key is not None else None,
        value=bytes(letter.value),
        headers=kept,
    )


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


def _clean(value: str | bytes | None, limit: int | None = None) -> str:
    """A header as text PostgreSQL can store: decoded, without NULs, at most `limit` long."""
    text = value.decode(errors="replace") if isinstance(value, bytes) else value or ""
    return text.replace("\x00", "")[:limit]


def _int(raw: str | None, *, bits: int) -> int | None:
    """The header's integer, if a signed column of `bits` can hold it."""
    try:
        value = int(raw) if raw is not None else None
    except ValueError:
        return None
    if value is None or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        return None
    return value


def _datetime(raw: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
