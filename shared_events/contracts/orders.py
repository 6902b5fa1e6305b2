"""Events published by the Order Service."""

import enum
import uuid
from collections.abc import Sequence
from typing import Annotated, ClassVar, Protocol

from pydantic import Field, StringConstraints, model_validator

from shared_events.contracts.base import Contract
from shared_events.contracts.limits import (
    CUSTOMER_ID_MAX_LENGTH,
    LINE_MAX_QUANTITY,
    ORDER_MAX_LINES,
    REASON_MAX_LENGTH,
    SKU_PATTERN,
)

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Quantity = Annotated[int, Field(ge=1, le=LINE_MAX_QUANTITY)]
Reason = Annotated[str, StringConstraints(max_length=REASON_MAX_LENGTH)]


class _HasSku(Protocol):
    @property
    def sku(self) -> str: ...


def skus_unique(lines: Sequence[_HasSku]) -> None:
    """An order names each SKU once (the API refuses repeated lines)."""
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("each SKU may appear once")


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

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=CUSTOMER_ID_MAX_LENGTH)]
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1, max_length=ORDER_MAX_LINES)]

    @model_validator(mode="after")
    def _skus_unique(self) -> "OrderCreatedIntegrationEvent":
        skus_unique(self.lines)
        return self


class OrderStatusChangedIntegrationEvent(_OrderEvent):
    """An order moved from one status to another."""

    event_type: ClassVar[str] = "OrderStatusChangedIntegrationEvent"
    event_version: ClassVar[int] = 1

    old_status: OrderStatusName | None
    new_status: OrderStatusName
    reason: Reason = ""


class OrderCancelledIntegrationEvent(_OrderEvent):
    """The customer cancelled an order: its stock, if reserved, must be released."""

    event_type: ClassVar[str] = "OrderCancelledIntegrationEvent"
    event_version: ClassVar[int] = 1

    reason: Reason = ""
