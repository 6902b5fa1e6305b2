"""Events published by the Inventory Service."""

import enum
import uuid
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from shared_events.contracts.base import Contract
from shared_events.contracts.limits import ORDER_MAX_LINES
from shared_events.contracts.orders import Quantity, Reason, Sku, skus_unique

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class ReasonCode(enum.StrEnum):
    """Why inventory reserved nothing for an order."""

    UNKNOWN_SKU = "unknown_sku"
    INSUFFICIENT_STOCK = "insufficient_stock"
    ORDER_CANCELLED = "order_cancelled"


class ReservedLine(Contract):
    sku: Sku
    quantity: Quantity
    unit_price: Money


class StockLevel(Contract):
    sku: Sku
    available_quantity: int = Field(ge=0)
    low_stock_threshold: int = Field(ge=0)


class StockReservedIntegrationEvent(Contract):
    """Every line of an order is reserved; carries the prices the order is charged."""

    event_type: ClassVar[str] = "StockReservedIntegrationEvent"
    event_version: ClassVar[int] = 1

    order_id: uuid.UUID
    lines: Annotated[tuple[ReservedLine, ...], Field(min_length=1, max_length=ORDER_MAX_LINES)]
    total_amount: Money

    @model_validator(mode="after")
    def _lines_add_up(self) -> "StockReservedIntegrationEvent":
        skus_unique(self.lines)
        lines_total = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        if self.total_amount != lines_total:
            raise ValueError(
                f"total_amount {self.total_amount} is not the sum of the lines, {lines_total}"
            )
        return self

    def partition_key(self) -> str:
        return str(self.order_id)


class ReservationFailedIntegrationEvent(Contract):
    """An order could not be reserved; nothing was reserved for it."""

    event_type: ClassVar[str] = "ReservationFailedIntegrationEvent"
    event_version: ClassVar[int] = 1

    order_id: uuid.UUID
    reason_code: ReasonCode
    reason: Reason
    sku: Sku | None = None

    def partition_key(self) -> str:
        return str(self.order_id)


class StockLevelWarningIntegrationEvent(Contract):
    """A product fell to or below its low-stock threshold."""

    event_type: ClassVar[str] = "StockLevelWarningIntegrationEvent"
    event_version: ClassVar[int] = 1

    sku: Sku
    available_quantity: int = Field(ge=0)
    low_stock_threshold: int = Field(ge=0)

    def partition_key(self) -> str:
        return self.sku


class StockDepletedIntegrationEvent(Contract):
    """A product has no available stock left."""

    event_type: ClassVar[str] = "StockDepletedIntegrationEvent"
    event_version: ClassVar[int] = 1

    sku: Sku

    def partition_key(self) -> str:
        return self.sku


class StockLevelNormalizedIntegrationEvent(Contract):
    """Stock went back up: above its threshold, or released for a cancelled order.

    With `order_id` set it confirms that the order's reservation was released
    (the cancellation step of the saga) and is keyed by the order; without it,
    it reports one product rising back above its threshold and is keyed by SKU.
    """

    event_type: ClassVar[str] = "StockLevelNormalizedIntegrationEvent"
    event_version: ClassVar[int] = 1

    order_id: uuid.UUID | None = None
    levels: tuple[StockLevel, ...] = ()

    def partition_key(self) -> str:
        if self.order_id is not None:
            return str(self.order_id)
        return self.levels[0].sku if self.levels else ""
