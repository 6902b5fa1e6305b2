"""Order events that move stock, and how the inbox applies them."""

from collections.abc import Sequence

from inventory_service.stock import reactions
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderStatusChangedIntegrationEvent,
    OrderStatusName,
)
from shared_events.django.inbox import EventHandlers, EventsByType, Handler
from shared_events.registry import Event


def on_order_created(events: Sequence[Event[OrderCreatedIntegrationEvent]]) -> None:
    """Reserve the orders' stock, first come first served."""
    reactions.stock_reserve_many(
        requests=[
            reactions.ReservationRequest(
                order_id=event.payload.order_id,
                lines=event.payload.lines,
                causation_id=event.event_id,
            )
            for event in events
        ]
    )


def on_order_cancelled(events: Sequence[Event[OrderCancelledIntegrationEvent]]) -> None:
    """Release what the order holds, and confirm the release."""
    for event in events:
        reactions.stock_release(order_id=event.payload.order_id, causation_id=event.event_id)


def on_order_status_changed(events: Sequence[Event[OrderStatusChangedIntegrationEvent]]) -> None:
    """A shipment turns the reservation into a sale; a cancellation's announcement lets the
    OrderCancelled that follows release it."""
    for event in events:
        if event.payload.new_status == OrderStatusName.SHIPPED:
            reactions.stock_sell(order_id=event.payload.order_id, causation_id=event.event_id)
        else:
            reactions.stock_release_announced(order_id=event.payload.order_id)


def moves_a_reservation(payload: OrderStatusChangedIntegrationEvent) -> bool:
    """Other status changes need nothing here."""
    return payload.new_status in (OrderStatusName.SHIPPED, OrderStatusName.CANCELLING)


def before_batch(events: EventsByType) -> None:
    """Lock every product the batch may move, in SKU order, when it moves held stock."""
    reserving = events.get(OrderCreatedIntegrationEvent, [])
    moving = [
        *events.get(OrderCancelledIntegrationEvent, []),
        # shipments and cancellations only: see moves_a_reservation
        *events.get(OrderStatusChangedIntegrationEvent, []),
    ]
    reactions.products_lock_for(
        reserving=[line for event in reserving for line in event.payload.lines],
        moving_held_by=[event.payload.order_id for event in moving],
    )


HANDLERS = EventHandlers(
    by_type={
        # A batch of reservations locks its products once and writes each table once.
        OrderCreatedIntegrationEvent: Handler(on_order_created, batched=True),
        OrderCancelledIntegrationEvent: Handler(on_order_cancelled, batched=False),
        OrderStatusChangedIntegrationEvent: Handler(
            on_order_status_changed, batched=False, acts_on=moves_a_reservation
        ),
    },
    before_batch=before_batch,
)
