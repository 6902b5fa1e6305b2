"""Order events that move stock. Each runs inside the inbox transaction."""

from typing import Any

from inventory_service.stock import services
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.registry import Event


def on_order_created(event: Event[OrderCreatedIntegrationEvent]) -> None:
    """Reserve the order's stock, all lines or none."""
    services.stock_reserve(
        order_id=event.payload.order_id, lines=event.payload.lines, causation_id=event.event_id
    )


def on_order_cancelled(event: Event[OrderCancelledIntegrationEvent]) -> None:
    """Release whatever the order holds and confirm the release."""
    services.stock_release(order_id=event.payload.order_id, causation_id=event.event_id)


def on_order_status_changed(event: Event[OrderStatusChangedIntegrationEvent]) -> None:
    """A shipped order's reservation becomes a sale; other changes need nothing here."""
    if event.payload.new_status == "shipped":
        services.stock_sell(order_id=event.payload.order_id, causation_id=event.event_id)


HANDLERS: dict[type, Any] = {
    OrderCreatedIntegrationEvent: on_order_created,
    OrderCancelledIntegrationEvent: on_order_cancelled,
    OrderStatusChangedIntegrationEvent: on_order_status_changed,
}
