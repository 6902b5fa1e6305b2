"""What the Order Service's events cause: reserving, releasing and selling stock, inside the
inbox transaction of the events that asked.

A batch of reservations locks all of its products once (`sql.products_lock`, in SKU order),
decides every order in turn against that stock, and writes each table with one statement,
so a hot SKU changes hands once per batch rather than once per order. Releases and sales
move one product per statement, in SKU order.
"""

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from inventory_service.stock import sql
from inventory_service.stock.levels import level_events
from inventory_service.stock.models import Reservation, ReservationStatus
from service_platform.db import saved_instance
from shared_events.contracts import (
    Contract,
    OrderLine,
    ReasonCode,
    ReservationFailedIntegrationEvent,
    ReservedLine,
    StockLevel,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.outbox import OutboxEntry, outbox_append, outbox_append_entries
from shared_events.errors import EventRejectedError

logger = logging.getLogger(__name__)


def products_lock_for(
    *, reserving: Sequence[OrderLine], moving_held_by: Sequence[uuid.UUID]
) -> None:
    """Before a batch that moves held stock: lock every product it may move, at once.

    Two consumers' batches that share products then wait for each other instead of
    deadlocking, however their orders interleave. A batch of reservations alone needs no
    such lock: `stock_reserve_many` takes its products in one statement by itself.
    """
    if moving_held_by:
        sql.products_lock(skus={line.sku for line in reserving}, held_by=moving_held_by)


@dataclasses.dataclass(frozen=True)
class ReservationRequest:
    """An order's lines to reserve, and the event that asked."""

    order_id: uuid.UUID
    lines: Sequence[OrderLine]
    causation_id: uuid.UUID | None = None


class _ReservationRefused(Exception):
    def __init__(self, code: ReasonCode, reason: str, sku: str) -> None:
        super().__init__(reason)
        self.code, self.reason, self.sku = code, reason, sku


def stock_reserve_many(*, requests: Sequence[ReservationRequest]) -> list[Reservation]:
    """Reserve orders first come first served, each all lines or none, and say which it was.

    The batch locks its products once, in SKU order, so every decision below sees stock
    that no one else changes before this transaction ends.
    """
    known = sql.reservations_lock([request.order_id for request in requests])
    skus = {line.sku for r in requests if r.order_id not in known for line in r.lines}
    stock = {sku: _Stock.of(row) for sku, row in sql.products_lock(skus=skus).items()}
    now = timezone.now()
    decided: dict[uuid.UUID, tuple[Reservation, Contract | None]] = {}
    new_reservations: list[sql.NewReservation] = []
    new_lines: list[sql.NewReservationLine] = []
    taken: dict[str, int] = {}
    results: list[Reservation] = []
    outbox: list[OutboxEntry] = []
    for request in requests:
        correlation_id = str(request.order_id)
        answer: Contract | None
        if request.order_id in known or request.order_id in decided:
            # Asked again (the order service re-asks when an answer is late), or an
            # OrderCreated arriving after its cancellation: answer as before, reserve nothing.
            if request.order_id in decided:
                reservation, answer = decided[request.order_id]
            else:
                reservation = known[request.order_id]
                answer = _reservation_answer(reservation)
            logger.info(
                "order %s already has a %s reservation; answering again",
                request.order_id,
                reservation.status,
                extra={"correlation_id": correlation_id},
            )
            if answer is not None:
                outbox.append((answer, correlation_id, request.causation_id))
            results.append(reservation)
            continue
        try:
            reserved, events = _lines_take(request.lines, stock)
        except _ReservationRefused as refused:
            row = sql.NewReservation(
                order_id=request.order_id,
                status=ReservationStatus.REJECTED,
                reason=refused.reason,
                reason_code=refused.code,
                rejected_sku=refused.sku,
            )
            answer = ReservationFailedIntegrationEvent(
                order_id=request.order_id,
                reason_code=refused.code,
                reason=refused.reason,
                sku=refused.sku,
            )
            events = []
        else:
            row = sql.NewReservation(
                order_id=request.order_id,
                status=ReservationStatus.RESERVED,
                reason="",
                reason_code="",
                rejected_sku="",
            )
            for line in reserved:
                new_lines.append(
                    sql.NewReservationLine(
                        request.order_id, line.sku, line.quantity, line.unit_price
                    )
                )
                taken[line.sku] = taken.get(line.sku, 0) + line.quantity
            total = sum((line.unit_price * line.quantity for line in reserved), Decimal("0"))
            answer = StockReservedIntegrationEvent(
                order_id=request.order_id, lines=tuple(reserved), total_amount=total
            )
        reservation = saved_instance(
            Reservation,
            {
                **row._asdict(),
                "cancellation_announced_at": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        new_reservations.append(row)
        decided[request.order_id] = (reservation, answer)
        results.append(reservation)
        outbox += [(e, correlation_id, request.causation_id) for e in (answer, *events)]
    if taken:
        sql.stock_take(taken)
    if new_reservations:
        sql.reservations_insert(new_reservations, new_lines, at=now)
    outbox_append_entries(outbox)
    return results


def stock_release_announced(*, order_id: uuid.UUID) -> None:
    """The Order Service announced the order as cancelling: its OrderCancelled may release."""
    Reservation.objects.filter(order_id=order_id, status=ReservationStatus.RESERVED).update(
        cancellation_announced_at=timezone.now()
    )


def stock_release(*, order_id: uuid.UUID, causation_id: uuid.UUID | None = None) -> Reservation:
    """Give back what an order holds and confirm it, whether or not anything was held.

    Reserved stock is released only for an order the Order Service announced as
    cancelling (its status change comes before the OrderCancelled on the order's
    partition): an OrderCancelled alone, for a confirmed order, is refused.
    """
    correlation_id = str(order_id)
    reservation, created = Reservation.objects.select_for_update().get_or_create(
        order_id=order_id,
        defaults={
            "status": ReservationStatus.CANCELLED,
            "reason": "cancelled before it was reserved",
        },
    )
    if (
        reservation.status == ReservationStatus.RESERVED
        and reservation.cancellation_announced_at is None
    ):
        raise EventRejectedError(
            f"OrderCancelled for order {order_id}, which the Order Service never announced as"
            " cancelling: its reserved stock stays reserved"
        )
    if not created and reservation.status == ReservationStatus.SOLD:
        logger.warning(
            "release refused for order %s: it was shipped",
            order_id,
            extra={"correlation_id": correlation_id},
        )
        return reservation
    levels: list[StockLevel] = []
    events: list[Contract] = []
    if reservation.status == ReservationStatus.RESERVED:
        for line in reservation.lines.order_by("product_id"):
            level = sql.product_stock_move(
                sql.StockMove.RELEASE, sku=line.product_id, quantity=line.quantity
            )
            assert level is not None, "a reserved product cannot disappear (PROTECT)"
            after, threshold = level.available_quantity, level.low_stock_threshold
            levels.append(
                StockLevel(
                    sku=line.product_id, available_quantity=after, low_stock_threshold=threshold
                )
            )
            events += level_events(
                line.product_id, before=after - line.quantity, after=after, threshold=threshold
            )
        reservation.status = ReservationStatus.RELEASED
    elif reservation.status == ReservationStatus.REJECTED:
        reservation.status = ReservationStatus.CANCELLED
    elif not created:
        # Released before: confirm again, the first confirmation may not have been seen.
        logger.info(
            "order %s was already released; confirming again",
            order_id,
            extra={"correlation_id": correlation_id},
        )
    reservation.save(update_fields=["status", "updated_at"])
    outbox_append(
        StockLevelNormalizedIntegrationEvent(order_id=order_id, levels=tuple(levels)),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    if events:
        outbox_append(*events, correlation_id=correlation_id, causation_id=causation_id)
    return reservation


def stock_sell(*, order_id: uuid.UUID, causation_id: uuid.UUID | None = None) -> Reservation | None:
    """The order shipped: its reserved units become sold."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is None or reservation.status != ReservationStatus.RESERVED:
        logger.warning(
            "shipment of order %s ignored: reservation is %s",
            order_id,
            reservation.status if reservation else "missing",
            extra={"correlation_id": str(order_id)},
        )
        return reservation
    for line in reservation.lines.order_by("product_id"):
        sql.product_stock_move(sql.StockMove.SELL, sku=line.product_id, quantity=line.quantity)
    reservation.status = ReservationStatus.SOLD
    reservation.save(update_fields=["status", "updated_at"])
    return reservation


def _reservation_answer(reservation: Reservation) -> Contract | None:
    """What inventory said about this order's reservation, to say it again."""
    if reservation.status in (ReservationStatus.RESERVED, ReservationStatus.SOLD):
        lines = tuple(
            ReservedLine(sku=line.product_id, quantity=line.quantity, unit_price=line.unit_price)
            for line in reservation.lines.order_by("product_id")
        )
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
        return StockReservedIntegrationEvent(
            order_id=reservation.order_id, lines=lines, total_amount=total
        )
    if reservation.status == ReservationStatus.REJECTED:
        return ReservationFailedIntegrationEvent(
            order_id=reservation.order_id,
            reason_code=ReasonCode(reservation.reason_code),
            reason=reservation.reason,
            sku=reservation.rejected_sku or None,
        )
    return None  # released or cancelled: the cancellation confirms


@dataclasses.dataclass
class _Stock:
    """A locked product's stock while a batch decides on it."""

    available: int
    threshold: int
    unit_price: Decimal

    @classmethod
    def of(cls, row: sql.ProductStock) -> "_Stock":
        return cls(row.available_quantity, row.low_stock_threshold, row.unit_price)


def _lines_take(
    lines: Sequence[OrderLine], stock: dict[str, _Stock]
) -> tuple[list[ReservedLine], list[Contract]]:
    """Take every line from the locked `stock`, or none; the lines and stock-level events."""
    reserved: list[ReservedLine] = []
    events: list[Contract] = []
    for line in sorted(lines, key=lambda l: l.sku):
        product = stock.get(line.sku)
        refusal = None
        if product is None:
            refusal = _ReservationRefused(
                ReasonCode.UNKNOWN_SKU, f"Unknown SKU {line.sku}.", line.sku
            )
        elif product.available < line.quantity:
            refusal = _ReservationRefused(
                ReasonCode.INSUFFICIENT_STOCK,
                f"Insufficient stock for {line.sku}: {line.quantity} requested,"
                f" {product.available} available.",
                line.sku,
            )
        if refusal is not None:
            for taken in reserved:  # give back what this order took so far
                stock[taken.sku].available += taken.quantity
            raise refusal
        assert product is not None
        product.available -= line.quantity
        reserved.append(
            ReservedLine(sku=line.sku, quantity=line.quantity, unit_price=product.unit_price)
        )
        events += level_events(
            line.sku,
            before=product.available + line.quantity,
            after=product.available,
            threshold=product.threshold,
        )
    return reserved, events
