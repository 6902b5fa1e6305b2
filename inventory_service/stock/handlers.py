"""Order events that move stock. Each gets a run of consecutive events of its type, inside
the inbox transaction, and applies them in order."""

from collections.abc import Sequence
from typing import Any

from inventory_service.stock import services
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.registry import Event


def on_order_created(events: Sequence[Event[OrderCreatedIntegrationEvent]]) -> None:
    """Reserve each order's stock, all lines or none, first come first served."""
    services.stock_reserve_many(
        requests=[
            services.ReservationRequest(
                order_id=event.payload.order_id,
                lines=event.payload.lines,
                causation_id=event.event_id,
            )
            for event in events
        ]
    )


def on_order_cancelled(events: Sequence[Event[OrderCancelledIntegrationEvent]]) -> None:
    """Release whatever each order holds and confirm the release."""
    for event in events:
        services.stock_release(order_id=event.payload.order_id, causation_id=event.event_id)


def on_order_status_changed(events: Sequence[Event[OrderStatusChangedIntegrationEvent]]) -> None:
    """A shipped order's reservation becomes a sale; other changes need nothing here."""
    for event in events:
        if event.payload.new_status == "shipped":
            services.stock_sell(order_id=event.payload.order_id, causation_id=event.event_id)


HANDLERS: dict[type, Any] = {
    OrderCreatedIntegrationEvent: on_order_created,
    OrderCancelledIntegrationEvent: on_order_cancelled,
    OrderStatusChangedIntegrationEvent: on_order_status_changed,
}
