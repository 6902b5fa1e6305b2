"""Events published by the Order Service."""

import enum
import uuid
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from shared_events.contracts.base import Contract

# The one definition of a SKU: the APIs validate input with it too.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Quantity = Annotated[int, Field(ge=1, le=10_000)]


class OrderStatusName(enum.StrEnum):
    """The statuses an order announces; the Inventory Service acts on `shipped`."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"


class OrderLine(Contract):
    sku: Sku
    quantity: Quantity


class _OrderEvent(Contract):
    order_id: uuid.UUID

    def partition_key(self) -> str:
        return str(self.order_id)


class OrderCreatedIntegrationEvent(_OrderEvent):
    """An order was placed and waits for stock."""

    event_type: ClassVar[str] = "OrderCreatedIntegrationEvent"
    event_version: ClassVar[int] = 1

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1)]


class OrderStatusChangedIntegrationEvent(_OrderEvent):
    """An order moved from one status to another."""

    event_type: ClassVar[str] = "OrderStatusChangedIntegrationEvent"
    event_version: ClassVar[int] = 1

    old_status: OrderStatusName | None
    new_status: OrderStatusName
    reason: str = ""


class OrderCancelledIntegrationEvent(_OrderEvent):
    """The customer cancelled an order: its stock, if reserved, must be released."""

    event_type: ClassVar[str] = "OrderCancelledIntegrationEvent"
    event_version: ClassVar[int] = 1

    reason: str = ""
