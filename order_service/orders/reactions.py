"""What inventory's events cause: each reaction runs inside the inbox transaction of the
event that caused it, and ignores an event the saga has moved past."""

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal

from order_service.orders import sql
from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus
from order_service.orders.transitions import (
    StatusChange,
    order_transition,
    orders_status_write,
    status_change,
    transition_applies,
)
from shared_events.contracts import ReservedLine
from shared_events.django.outbox import OutboxEntry
from shared_events.errors import EventRejectedError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StockReservation:
    """Inventory reserved an order's stock at these prices (and the event that said so)."""

    order_id: uuid.UUID
    lines: Sequence[ReservedLine]
    total_amount: Decimal
    causation_id: uuid.UUID | None = None


def orders_confirm(*, reservations: Sequence[StockReservation]) -> list[Order | None]:
    """Confirm each pending order at its reserved prices, writing each table once.

    A reservation whose lines are not the order's is refused (EventRejectedError): the
    order waits for a valid answer or its timeout.
    """
    orders = sql.orders_lock([r.order_id for r in reservations])
    ordered = sql.order_lines_read(
        [o.id for o in orders.values() if o.status == OrderStatus.PENDING]
    )
    results: list[Order | None] = []
    confirmed: list[Order] = []
    announcements: list[OutboxEntry] = []
    prices: list[sql.LinePrice] = []
    for reservation in reservations:
        order = orders.get(reservation.order_id)
        if order is None:
            _unknown_order_log(reservation.order_id)
        elif transition_applies(order, OrderStatus.CONFIRMED, "stock reserved"):
            _reservation_matches(reservation, ordered[order.id])
            order.total_amount = reservation.total_amount
            prices += [sql.LinePrice(order.id, l.sku, l.unit_price) for l in reservation.lines]
            announcements.append(
                status_change(
                    StatusChange(
                        order, OrderStatus.CONFIRMED, causation_id=reservation.causation_id
                    )
                )
            )
            confirmed.append(order)
        results.append(order)
    if confirmed:
        sql.order_line_prices_set(prices)  # StockReserved has lines
        orders_status_write(confirmed, announcements)
    return results


def _reservation_matches(reservation: StockReservation, ordered: dict[str, int]) -> None:
    """Refuse a reservation that does not hold exactly the order's lines.

    The contract already refuses a total that is not the sum of the lines.
    """
    reserved = {line.sku: line.quantity for line in reservation.lines}
    if reserved != ordered:
        raise EventRejectedError(
            f"the reservation of order {reservation.order_id} holds"
            f" {_lines_text(reserved)}, the order {_lines_text(ordered)}"
        )


def _lines_text(lines: dict[str, int]) -> str:
    return ", ".join(f"{quantity} x {sku}" for sku, quantity in sorted(lines.items())) or "nothing"


def order_reject(
    *, order_id: uuid.UUID, reason: str, causation_id: uuid.UUID | None = None
) -> Order | None:
    """Stock could not be reserved: a pending order is rejected with the reason."""
    order = _order_lock(order_id)
    if order is None or not transition_applies(order, OrderStatus.REJECTED, "reservation failed"):
        return order
    order_transition(order, OrderStatus.REJECTED, reason=reason, causation_id=causation_id)
    return order


def order_cancellation_complete(
    *, order_id: uuid.UUID, causation_id: uuid.UUID | None = None
) -> Order | None:
    """Inventory released the stock: a cancelling order is cancelled."""
    order = _order_lock(order_id)
    if order is None or not transition_applies(order, OrderStatus.CANCELLED, "stock released"):
        return order
    order_transition(
        order, OrderStatus.CANCELLED, reason=order.status_reason, causation_id=causation_id
    )
    return order


def _order_lock(order_id: uuid.UUID) -> Order | None:
    order = sql.orders_lock([order_id]).get(order_id)
    if order is None:
        _unknown_order_log(order_id)
    return order


def _unknown_order_log(order_id: uuid.UUID) -> None:
    logger.warning(
        "event for unknown order %s ignored", order_id, extra={"correlation_id": str(order_id)}
    )
