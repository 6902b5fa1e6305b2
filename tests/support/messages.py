"""Kafka messages built in memory, as the consumer would receive them."""

import uuid

from confluent_kafka import Message

from shared_events.contracts import Contract
from shared_events.django.conf import events_config
from shared_events.headers import relay_headers
from shared_events.registry import EVENT_TOPICS, envelope_for
from shared_events.topics import TOPIC_OWNERS, topic_name


def event_message(
    payload: Contract,
    *,
    producer: str | None = None,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
    topic: str | None = None,
    offset: int = 0,
    traceparent: str = "",
    request_id: str = "",
) -> tuple[Message, uuid.UUID]:
    """A message carrying `payload` in a fresh envelope, with the relay's headers.

    By default it comes from where the payload's type belongs: its topic (in this test
    run's namespace) and that topic's owner.
    """
    home = EVENT_TOPICS[type(payload)]
    topic = topic or topic_name(home, namespace=events_config().kafka.namespace)
    envelope = envelope_for(
        payload,
        producer=producer or TOPIC_OWNERS[home],
        correlation_id=correlation_id,
        causation_id=causation_id,
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
            request_id=request_id,
        ),
    )
    return message, envelope.event_id
