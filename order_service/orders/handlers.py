"""Inventory events that move an order along the saga, and how the inbox applies them."""

from collections.abc import Sequence

from order_service.orders import reactions
from shared_events.contracts import (
    ReservationFailedIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.inbox import EventHandlers, Handler
from shared_events.registry import Event


def on_stock_reserved(events: Sequence[Event[StockReservedIntegrationEvent]]) -> None:
    """Confirm each order at the reserved prices."""
    reactions.orders_confirm(
        reservations=[
            reactions.StockReservation(
                order_id=event.payload.order_id,
                lines=event.payload.lines,
                total_amount=event.payload.total_amount,
                causation_id=event.event_id,
            )
            for event in events
        ]
    )


def on_reservation_failed(events: Sequence[Event[ReservationFailedIntegrationEvent]]) -> None:
    """Reject the order with inventory's reason."""
    for event in events:
        reactions.order_reject(
            order_id=event.payload.order_id,
            reason=event.payload.reason,
            causation_id=event.event_id,
        )


def on_stock_released(events: Sequence[Event[StockLevelNormalizedIntegrationEvent]]) -> None:
    """Inventory confirms it released the order's stock."""
    for event in events:
        assert event.payload.order_id is not None  # see `releases_an_order`
        reactions.order_cancellation_complete(
            order_id=event.payload.order_id, causation_id=event.event_id
        )


def releases_an_order(payload: StockLevelNormalizedIntegrationEvent) -> bool:
    """With an order id, the event confirms a release; without, it is a SKU's stock level."""
    return payload.order_id is not None


HANDLERS = EventHandlers(
    by_type={
        # A batch of reservations is confirmed with one statement per table.
        StockReservedIntegrationEvent: Handler(on_stock_reserved, batched=True),
        ReservationFailedIntegrationEvent: Handler(on_reservation_failed, batched=False),
        StockLevelNormalizedIntegrationEvent: Handler(
            on_stock_released, batched=False, acts_on=releases_an_order
        ),
    }
)
