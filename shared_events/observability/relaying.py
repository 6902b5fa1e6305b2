"""What the relay adds to each message (headers) and records about each batch (metrics)."""

import uuid
from collections.abc import Sequence
from typing import Any

from shared_events.kafka.producer import DeliveryReport, Headers
from shared_events.observability.metrics import events_published_record

EVENT_TYPE_COLUMN = 4  # in the relay's row tuples: id, topic, key, body, event_type, ...


def relay_headers(
    *,
    event_type: str,
    event_version: int,
    correlation_id: str,
    event_id: uuid.UUID | str,
    traceparent: str = "",
) -> Headers:
    """Kafka headers of an outbox row: routing and log context without parsing the body."""
    headers = [
        ("event_type", event_type.encode()),
        ("event_version", str(event_version).encode()),
        ("correlation_id", correlation_id.encode()),
        ("event_id", str(event_id).encode()),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers


def relay_metrics_record(rows: Sequence[Sequence[Any]], reports: Sequence[DeliveryReport]) -> None:
    events_published_record(
        [row[EVENT_TYPE_COLUMN] for row, r in zip(rows, reports, strict=True) if r.delivered],
        failed=[
            row[EVENT_TYPE_COLUMN] for row, r in zip(rows, reports, strict=True) if not r.delivered
        ],
    )
