"""Kafka messages built in memory, as the consumer would receive them."""

import uuid

from confluent_kafka import Message

from shared_events.contracts import Contract
from shared_events.headers import relay_headers
from shared_events.registry import envelope_for


def event_message(
    payload: Contract,
    *,
    producer: str = "inventory-service",
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
    topic: str = "inventory-events",
    offset: int = 0,
    traceparent: str = "",
) -> tuple[Message, uuid.UUID]:
    """A message carrying `payload` in a fresh envelope, with the relay's headers."""
    envelope = envelope_for(
        payload, producer=producer, correlation_id=correlation_id, causation_id=causation_id
    )
    message = Message(
        topic=topic,
        partition=0,
        offset=offset,
        key=payload.partition_key().encode(),
        value=envelope.to_json_bytes(),
        headers=relay_headers(
            event_type=envelope.event_type,
            event_version=envelope.event_version,
            correlation_id=correlation_id or "",
            event_id=envelope.event_id,
            traceparent=traceparent,
        ),
    )
    return message, envelope.event_id
