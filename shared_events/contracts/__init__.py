"""Event contracts: one immutable class per event type and version."""

from shared_events.contracts.base import Contract
from shared_events.contracts.inventory import (
    ReasonCode,
    ReservationFailedIntegrationEvent,
    ReservedLine,
    StockDepletedIntegrationEvent,
    StockLevel,
    StockLevelNormalizedIntegrationEvent,
    StockLevelWarningIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.contracts.orders import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
    OrderLine,
    OrderStatusChangedIntegrationEvent,
    OrderStatusName,
)

__all__ = [
    "Contract",
    "OrderCancelledIntegrationEvent",
    "OrderCreatedIntegrationEvent",
    "OrderLine",
    "OrderStatusChangedIntegrationEvent",
    "OrderStatusName",
    "ReasonCode",
    "ReservationFailedIntegrationEvent",
    "ReservedLine",
    "StockDepletedIntegrationEvent",
    "StockLevel",
    "StockLevelNormalizedIntegrationEvent",
    "StockLevelWarningIntegrationEvent",
    "StockReservedIntegrationEvent",
]
