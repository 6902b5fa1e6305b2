"""Handling one consumed message: decode, apply exactly once, and say what happened.

Log lines carry the event's correlation id, id and type; the trace continues from the
message's `traceparent`; metrics count the outcome and time it.
"""

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message
from opentelemetry.trace import SpanKind

from shared_events.django.inbox import Handler, event_apply
from shared_events.observability.logging import log_context_bind
from shared_events.observability.metrics import (
    EVENT_DELAY_SECONDS,
    EVENT_PROCESSING_SECONDS,
    EVENTS_CONSUMED,
    EVENTS_FAILED,
    event_type_label,
    message_event_type,
)
from shared_events.observability.tracing import message_trace_carrier, span_from
from shared_events.registry import decode_event

logger = logging.getLogger("shared_events.consumer")


def event_message_process(message: Message, *, handlers: Mapping[type, Handler]) -> str:
    """Apply one message's event with its handler; return applied, duplicate or skipped."""
    label = message_event_type(message)
    started = time.perf_counter()
    try:
        with span_from(
            message_trace_carrier(message.headers()),
            f"consume {label}",
            kind=SpanKind.CONSUMER,
            attributes=_span_attributes(message),
        ):
            event = decode_event(message.value())
            label = event_type_label(event.event_type)
            log_context_bind(
                correlation_id=event.correlation_id,
                event_id=event.event_id,
                event_type=event.event_type,
            )
            handler = handlers.get(type(event.payload))
            if handler is None:
                logger.debug("%s is not for this service", event.event_type)
                outcome = "skipped"
            else:
                outcome = "applied" if event_apply(event, handler) else "duplicate"
    except Exception as exc:
        EVENTS_FAILED.labels(label, "consume", type(exc).__name__).inc()
        raise
    elapsed = time.perf_counter() - started
    EVENTS_CONSUMED.labels(label, outcome).inc()
    EVENT_PROCESSING_SECONDS.labels(label).observe(elapsed)
    if outcome != "skipped":
        logger.info(
            "%s %s %s",
            event.event_type,
            event.event_id,
            outcome,
            extra={"outcome": outcome, "duration_ms": round(elapsed * 1000, 1)},
        )
    if outcome == "applied":
        delay = (datetime.now(UTC) - event.occurred_at).total_seconds()
        EVENT_DELAY_SECONDS.labels(label).observe(max(delay, 0.0))
    return outcome


def _span_attributes(message: Message) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": message.topic() or "",
        "messaging.destination.partition.id": str(message.partition()),
        "messaging.kafka.offset": message.offset() or 0,
    }
