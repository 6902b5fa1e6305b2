"""Order events that move stock, applied inside the inbox transaction."""

from collections.abc import Sequence
from typing import Any

from inventory_service.stock import services
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderStatusChangedIntegrationEvent,
)
from shared_events.registry import Event


def on_order_events(events: Sequence[Event[Any]]) -> None:
    """Apply order events in order: reserve, release, or turn a reservation into a sale.

    Every product the events may move is locked first, in SKU order, in one statement:
    two consumers' batches that share products then wait for each other instead of
    deadlocking, however their orders interleave. Reservations alone are one run, which
    locks its products that way by itself.
    """
    moving_held_stock = [e.payload.order_id for e in events if _releases(e) or _sells(e)]
    if moving_held_stock:
        services.products_lock(
            skus={line.sku for e in events if _reserves(e) for line in e.payload.lines},
            held_by=moving_held_stock,
        )
    reservations: list[services.ReservationRequest] = []
    for event in events:
        if _reserves(event):
            reservations.append(
                services.ReservationRequest(
                    order_id=event.payload.order_id,
                    lines=event.payload.lines,
                    causation_id=event.event_id,
                )
            )
        elif _releases(event):
            _reserve(reservations)  # the orders before this event come first
            services.stock_release(order_id=event.payload.order_id, causation_id=event.event_id)
        elif _sells(event):
            _reserve(reservations)
            services.stock_sell(order_id=event.payload.order_id, causation_id=event.event_id)
        # Other status changes need nothing here, and do not split a run of reservations.
    _reserve(reservations)


def _reserve(reservations: list[services.ReservationRequest]) -> None:
    if reservations:
        services.stock_reserve_many(requests=list(reservations))
        reservations.clear()


def _reserves(event: Event[Any]) -> bool:
    return isinstance(event.payload, OrderCreatedIntegrationEvent)


def _releases(event: Event[Any]) -> bool:
    return isinstance(event.payload, OrderCancelledIntegrationEvent)


def _sells(event: Event[Any]) -> bool:
    payload = event.payload
    return (
        isinstance(payload, OrderStatusChangedIntegrationEvent) and payload.new_status == "shipped"
    )


# One handler for all three, so that a polled batch reaches it as one run and locks its
# products together (the inbox hands consecutive events with the same handler over at once).
HANDLERS: dict[type, Any] = {
    OrderCreatedIntegrationEvent: on_order_events,
    OrderCancelledIntegrationEvent: on_order_events,
    OrderStatusChangedIntegrationEvent: on_order_events,
}
