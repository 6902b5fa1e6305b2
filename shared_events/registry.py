"""Which contract class reads which `(event_type, event_version)`, and the typed event."""

import dataclasses
import uuid
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import ValidationError

from shared_events.contracts import (
    Contract,
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderStatusChangedIntegrationEvent,
    ReservationFailedIntegrationEvent,
    StockDepletedIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
    StockLevelWarningIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.envelope import Envelope, format_validation_errors
from shared_events.errors import (
    ContractValidationError,
    UnknownEventTypeError,
    UntrustedEventError,
)
from shared_events.topics import INVENTORY_EVENTS, ORDER_EVENTS, TOPIC_OWNERS, topic_name

# The topic each event type is published on (by the topic's owner, see TOPIC_OWNERS).
EVENT_TOPICS: dict[type[Contract], str] = {
    OrderCreatedIntegrationEvent: ORDER_EVENTS,
    OrderStatusChangedIntegrationEvent: ORDER_EVENTS,
    OrderCancelledIntegrationEvent: ORDER_EVENTS,
    StockReservedIntegrationEvent: INVENTORY_EVENTS,
    ReservationFailedIntegrationEvent: INVENTORY_EVENTS,
    StockLevelWarningIntegrationEvent: INVENTORY_EVENTS,
    StockLevelNormalizedIntegrationEvent: INVENTORY_EVENTS,
    StockDepletedIntegrationEvent: INVENTORY_EVENTS,
}

CONTRACTS: dict[tuple[str, int], type[Contract]] = {
    (contract.event_type, contract.event_version): contract for contract in EVENT_TOPICS
}

C = TypeVar("C", bound=Contract)


@dataclasses.dataclass(frozen=True)
class Event(Generic[C]):
    """A decoded, validated event: envelope metadata plus its typed payload."""

    event_id: uuid.UUID
    event_type: str
    event_version: int
    occurred_at: datetime
    producer: str
    correlation_id: str | None
    causation_id: uuid.UUID | None
    payload: C


def contract_for(event_type: str, event_version: int) -> type[Contract]:
    """Return the contract class registered for this type and version."""
    try:
        return CONTRACTS[(event_type, event_version)]
    except KeyError:
        raise UnknownEventTypeError(f"no contract for {event_type} v{event_version}") from None


def event_from_envelope(envelope: Envelope) -> Event[Contract]:
    """Validate an envelope's payload against its contract."""
    contract = contract_for(envelope.event_type, envelope.event_version)
    try:
        payload = contract.model_validate(envelope.payload)
    except ValidationError as exc:
        raise ContractValidationError(
            f"{envelope.event_type} v{envelope.event_version}: {format_validation_errors(exc)}"
        ) from exc
    return Event(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        event_version=envelope.event_version,
        occurred_at=envelope.occurred_at,
        producer=envelope.producer,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        payload=payload,
    )


@dataclasses.dataclass(frozen=True)
class EventSources:
    """Where a consumer accepts events from: each type only on its own topic (or on the
    consumer's replay topic), and only as published by that topic's owner."""

    namespace: str = ""
    replay_topic: str | None = None

    def verify(self, event: Event[Contract], *, topic: str | None) -> None:
        """Raise UntrustedEventError unless `event` may have come from where it came."""
        home = EVENT_TOPICS[type(event.payload)]
        accepted = {topic_name(home, namespace=self.namespace), self.replay_topic} - {None}
        if topic not in accepted:
            raise UntrustedEventError(f"{event.event_type} is not published on {topic}")
        owner = TOPIC_OWNERS[home]
        if event.producer != owner:
            raise UntrustedEventError(
                f"{event.event_type} is published by {owner}, not by {event.producer[:100]!r}"
            )


def decode_event(raw: bytes | None) -> Event[Contract]:
    """Decode Kafka message bytes into a validated event, or raise a permanent error."""
    return event_from_envelope(Envelope.from_json_bytes(raw))


def envelope_for(
    payload: Contract,
    *,
    producer: str,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
) -> Envelope:
    """Wrap a contract in a new envelope with a fresh event id."""
    return Envelope(
        event_type=payload.event_type,
        event_version=payload.event_version,
        producer=producer,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload.model_dump(mode="json"),
    )
