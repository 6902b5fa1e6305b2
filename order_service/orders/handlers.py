"""Inventory events that move an order along the saga. Each gets a run of consecutive events
of its type, inside the inbox transaction, and applies them in order."""

from collections.abc import Sequence
from typing import Any

from order_service.orders import services
from shared_events.contracts import (
    ReservationFailedIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.registry import Event


def on_stock_reserved(events: Sequence[Event[StockReservedIntegrationEvent]]) -> None:
    """Confirm each order at the reserved prices."""
    services.orders_confirm(
        reservations=[
            services.StockReservation(
                order_id=event.payload.order_id,
                lines=event.payload.lines,
                total_amount=event.payload.total_amount,
                causation_id=event.event_id,
            )
            for event in events
        ]
    )


def on_reservation_failed(events: Sequence[Event[ReservationFailedIntegrationEvent]]) -> None:
    """Reject each order with inventory's reason."""
    for event in events:
        services.order_reject(
            order_id=event.payload.order_id,
            reason=event.payload.reason,
            causation_id=event.event_id,
        )


def on_stock_level_normalized(
    events: Sequence[Event[StockLevelNormalizedIntegrationEvent]],
) -> None:
    """With an order id, inventory confirms it released the order's stock."""
    for event in events:
        if event.payload.order_id is not None:
            services.order_cancellation_complete(
                order_id=event.payload.order_id, causation_id=event.event_id
            )


HANDLERS: dict[type, Any] = {
    StockReservedIntegrationEvent: on_stock_reserved,
    ReservationFailedIntegrationEvent: on_reservation_failed,
    StockLevelNormalizedIntegrationEvent: on_stock_level_normalized,
}
