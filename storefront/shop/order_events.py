"""From the saga's order events to each order's Redis stream, which the live order page reads.

The stream `storefront:order:<order_id>` holds the order's status changes in the order Kafka
delivered them (one partition per order); its entry ids are what a reconnecting EventSource
sends back as `Last-Event-ID`.
"""

import dataclasses
import json
import logging
from typing import Any

from shared_events.envelope import Envelope
from shared_events.errors import EventDecodeError

logger = logging.getLogger(__name__)

STREAM_KEY_PREFIX = "storefront:order:"
ORDER_CREATED = "OrderCreatedIntegrationEvent"
ORDER_STATUS_CHANGED = "OrderStatusChangedIntegrationEvent"


def order_stream_key(order_id: str) -> str:
    return f"{STREAM_KEY_PREFIX}{order_id}"


@dataclasses.dataclass(frozen=True)
class OrderStreamEntry:
    """One status an order reached, as stored in its stream."""

    order_id: str
    event_id: str
    status: str
    reason: str
    occurred_at: str
    # The Kafka message's timestamp (ms since the epoch): where the push latency runs from.
    published_at: str = ""

    def fields(self) -> dict[str, str]:
        return {
            "event_id": self.event_id,
            "status": self.status,
            "reason": self.reason,
            "occurred_at": self.occurred_at,
            "published_at": self.published_at,
        }

    @classmethod
    def from_fields(cls, order_id: str, fields: dict[str, str]) -> "OrderStreamEntry":
        return cls(
            order_id=order_id,
            event_id=fields.get("event_id", ""),
            status=fields.get("status", ""),
            reason=fields.get("reason", ""),
            occurred_at=fields.get("occurred_at", ""),
            published_at=fields.get("published_at", ""),
        )

    def sse_data(self, *, total_amount: str | None) -> str:
        """The JSON the page's script reads."""
        return json.dumps(
            {
                "status": self.status,
                "reason": self.reason,
                "total_amount": total_amount,
                "occurred_at": self.occurred_at,
                "published_at": self.published_at,
            },
            separators=(",", ":"),
        )


def stream_entry_of(
    raw: bytes | None, *, published_at_ms: int | None = None
) -> OrderStreamEntry | None:
    """The entry an order-events message adds to its order's stream; None for events that
    change no status the page shows, and for messages that cannot be read (logged)."""
    try:
        envelope = Envelope.from_json_bytes(raw)
    except EventDecodeError as exc:
        logger.warning("skipping an unreadable order event: %s", exc)
        return None
    payload = envelope.payload
    if envelope.event_type == ORDER_CREATED:
        status, reason = "pending", ""
    elif envelope.event_type == ORDER_STATUS_CHANGED:
        status, reason = str(payload.get("new_status", "")), str(payload.get("reason") or "")
    else:
        return None  # the cancellation request to inventory: its status change follows
    order_id = str(payload.get("order_id", ""))
    if not order_id or not status:
        logger.warning(
            "skipping %s %s without an order id or status", envelope.event_type, envelope.event_id
        )
        return None
    return OrderStreamEntry(
        order_id=order_id,
        event_id=str(envelope.event_id),
        status=status,
        reason=reason,
        occurred_at=envelope.occurred_at.isoformat(),
        published_at=str(published_at_ms) if published_at_ms else "",
    )


def read_entries(order_id: str, reply: Any) -> list[tuple[str, OrderStreamEntry]]:
    """The entries of an XREAD reply on one order's stream (decoded responses), with ids."""
    if not reply:
        return []
    # RESP2: [[key, [(id, fields), ...]]]; RESP3: {key: [[(id, fields), ...]]}.
    messages = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
    return [
        (str(entry_id), OrderStreamEntry.from_fields(order_id, dict(fields or {})))
        for entry_id, fields in messages
    ]
