"""Inventory events that move an order along the saga. Each runs inside the inbox transaction."""

from typing import Any

from order_service.orders import services
from shared_events.contracts import (
    ReservationFailedIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.registry import Event


def on_stock_reserved(event: Event[StockReservedIntegrationEvent]) -> None:
    """Confirm the order at the reserved prices."""
    services.order_confirm(
        order_id=event.payload.order_id,
        lines=event.payload.lines,
        total_amount=event.payload.total_amount,
        causation_id=event.event_id,
    )


def on_reservation_failed(event: Event[ReservationFailedIntegrationEvent]) -> None:
    """Reject the order with inventory's reason."""
    services.order_reject(
        order_id=event.payload.order_id, reason=event.payload.reason, causation_id=event.event_id
    )


def on_stock_level_normalized(event: Event[StockLevelNormalizedIntegrationEvent]) -> None:
    """With an order id, inventory confirms it released the order's stock."""
    if event.payload.order_id is not None:
        services.order_cancellation_complete(
            order_id=event.payload.order_id, causation_id=event.event_id
        )


HANDLERS: dict[type, Any] = {
    StockReservedIntegrationEvent: on_stock_reserved,
    ReservationFailedIntegrationEvent: on_reservation_failed,
    StockLevelNormalizedIntegrationEvent: on_stock_level_normalized,
}
