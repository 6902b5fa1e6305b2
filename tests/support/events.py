"""Build consumed events for handler tests."""

import uuid
from datetime import UTC, datetime

from shared_events.contracts import Contract
from shared_events.registry import Event


def event(payload: Contract, *, event_id: uuid.UUID | None = None, producer: str = "test") -> Event:
    """Wrap a contract as if it had just been consumed from Kafka."""
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type=payload.event_type,
        event_version=payload.event_version,
        occurred_at=datetime.now(UTC),
        producer=producer,
        correlation_id=str(getattr(payload, "order_id", "") or ""),
        causation_id=None,
        payload=payload,
    )
