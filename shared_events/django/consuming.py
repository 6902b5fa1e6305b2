"""Handling consumed messages: decode, check where they came from, apply exactly once, and
say what happened.

Log lines carry the event's correlation id, id and type; metrics count each outcome and
time it. A batch of messages is applied in one transaction; a single message continues
the trace of its `traceparent` in a span of its own.
"""

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message
from opentelemetry.trace import SpanKind

from shared_events.django.conf import events_config
from shared_events.django.inbox import EventHandlers, Outcome, events_apply
from shared_events.django.outbox import causes_request_ids
from shared_events.headers import REQUEST_ID, header_value, message_headers
from shared_events.observability.logging import (
    log_context_bind,
    log_context_clear,
    message_log_context,
)
from shared_events.observability.metrics import (
    EVENT_BATCHES_SPLIT,
    EVENT_DELAY_SECONDS,
    EVENT_PROCESSING_SECONDS,
    EVENTS_CONSUMED,
    EVENTS_FAILED,
    event_type_label,
    message_event_type,
)
from shared_events.observability.tracing import message_trace_carrier, span_from
from shared_events.registry import Event, decode_event

logger = logging.getLogger("shared_events.consumer")


def event_messages_process(
    messages: Sequence[Message], *, handlers: EventHandlers
) -> list[Outcome]:
    """Apply the messages' events in one transaction; all of them, or none if one fails."""
    started = time.perf_counter()
    log_context_clear()  # the batch's lines are about no one message
    try:
        events = [_event_from(message) for message in messages]
        with causes_request_ids(_request_ids(messages, events)):
            outcomes = events_apply(events, handlers)
    except Exception as exc:
        # The consumer loop applies the batch again one message at a time, which counts
        # the failure of the message that has it.
        EVENT_BATCHES_SPLIT.labels(type(exc).__name__).inc()
        logger.warning(
            "batch of %d rolled back, applying it one event at a time: %s: %s",
            len(messages),
            type(exc).__name__,
            exc,
        )
        raise
    # Each event's share of the batch's time is what it cost to process.
    _outcomes_record(
        messages, events, outcomes, elapsed=(time.perf_counter() - started) / len(events)
    )
    return outcomes


def event_message_process(message: Message, *, handlers: EventHandlers) -> Outcome:
    """Apply one message's event with its handler; return applied, duplicate or skipped."""
    label = message_event_type(message)
    started = time.perf_counter()
    try:
        with span_from(
            message_trace_carrier(message_headers(message)),
            f"consume {label}",
            kind=SpanKind.CONSUMER,
            attributes=_span_attributes(message),
        ):
            event = _event_from(message)
            label = event_type_label(event.event_type)
            log_context_bind(
                correlation_id=event.correlation_id,
                event_id=event.event_id,
                event_type=event.event_type,
            )
            with causes_request_ids(_request_ids([message], [event])):
                [outcome] = events_apply([event], handlers)
    except Exception as exc:
        EVENTS_FAILED.labels(label, "consume", type(exc).__name__).inc()
        raise
    _outcomes_record([message], [event], [outcome], elapsed=time.perf_counter() - started)
    return outcome


def _event_from(message: Message) -> Event[Any]:
    """Decode the message's event, and refuse it unless it came from where it belongs."""
    event = decode_event(message.value())
    events_config().event_sources.verify(event, topic=message.topic())
    return event


def _request_ids(messages: Sequence[Message], events: Sequence[Event[Any]]) -> dict[uuid.UUID, str]:
    """The request id each event arrived with (a header the relay copied from its outbox row)."""
    request_ids: dict[uuid.UUID, str] = {}
    for message, event in zip(messages, events, strict=True):
        value = header_value(message_headers(message), REQUEST_ID)
        if value:
            request_ids[event.event_id] = value.decode() if isinstance(value, bytes) else value
    return request_ids


def _outcomes_record(
    messages: Sequence[Message],
    events: Sequence[Event[Any]],
    outcomes: Sequence[Outcome],
    *,
    elapsed: float,
) -> None:
    now = datetime.now(UTC)
    for message, event, outcome in zip(messages, events, outcomes, strict=True):
        label = event_type_label(event.event_type)
        EVENTS_CONSUMED.labels(label, outcome).inc()
        EVENT_PROCESSING_SECONDS.labels(label).observe(elapsed)
        if outcome == "skipped":
            logger.debug("%s is not for this service", event.event_type)
            continue
        message_log_context(message)
        log_context_bind(
            correlation_id=event.correlation_id,
            event_id=event.event_id,
            event_type=event.event_type,
        )
        logger.info(
            "%s %s %s",
            event.event_type,
            event.event_id,
            outcome,
            extra={"outcome": outcome, "duration_ms": round(elapsed * 1000, 1)},
        )
        if outcome == "applied":
            delay = (now - event.occurred_at).total_seconds()
            EVENT_DELAY_SECONDS.labels(label).observe(max(delay, 0.0))


def _span_attributes(message: Message) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": message.topic() or "",
        "messaging.destination.partition.id": str(message.partition()),
        "messaging.kafka.offset": message.offset() or 0,
    }
