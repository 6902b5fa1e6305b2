"""Stock use cases. Each one changes stock and writes its events in one transaction.

Products are always locked or moved in SKU order, so concurrent transactions neither
oversell nor deadlock over one order's products: a restock or release is one UPDATE per
product, and a batch of reservations locks all of its products once, decides every order
in turn, and writes each table with one statement. The CHECK constraints on Product are
the last line of defence.
"""

import dataclasses
import logging
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from inventory_service.stock.models import (
    Product,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from service_platform.api import ApplicationError, NotFoundError
from shared_events.contracts import (
    Contract,
    OrderLine,
    ReservationFailedIntegrationEvent,
    ReservedLine,
    StockDepletedIntegrationEvent,
    StockLevel,
    StockLevelNormalizedIntegrationEvent,
    StockLevelWarningIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.django.outbox import OutboxEntry, outbox_publish, outbox_publish_all

logger = logging.getLogger(__name__)

PRODUCT_TABLE = Product._meta.db_table
RESERVATION_TABLE = Reservation._meta.db_table


class _ReservationRefused(Exception):
    def __init__(self, code: str, reason: str, sku: str) -> None:
        super().__init__(reason)
        self.code, self.reason, self.sku = code, reason, sku


def product_create(
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    available_quantity: int = 0,
    low_stock_threshold: int = 10,
) -> Product:
    """Add a product with its initial stock."""
    if Product.objects.filter(sku=sku).exists():
        raise ApplicationError("A product with this SKU already exists.", extra={"sku": sku})
    return Product.objects.create(
        sku=sku,
        name=name,
        unit_price=unit_price,
        available_quantity=available_quantity,
        received_quantity=available_quantity,
        low_stock_threshold=low_stock_threshold,
    )


def product_update(
    *,
    sku: str,
    name: str | None = None,
    unit_price: Decimal | None = None,
    low_stock_threshold: int | None = None,
) -> Product:
    """Change a product's description, price or threshold (stock moves only by restock)."""
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            raise NotFoundError("Product not found.", extra={"sku": sku})
        changes = {
            "name": name,
            "unit_price": unit_price,
            "low_stock_threshold": low_stock_threshold,
        }
        for field, value in changes.items():
            if value is not None:
                setattr(product, field, value)
        product.save()
    return product


def product_restock(*, sku: str, quantity: int) -> Product:
    """Receive `quantity` more units of a product."""
    with transaction.atomic():
        row = _stock_move(
            "available_quantity = available_quantity + %(q)s,"
            " received_quantity = received_quantity + %(q)s",
            sku=sku,
            quantity=quantity,
        )
        if row is None:
            raise NotFoundError("Product not found.", extra={"sku": sku})
        after, threshold, _price = row
        events = _level_events(sku, before=after - quantity, after=after, threshold=threshold)
        if events:
            outbox_publish(*events)
    return Product.objects.get(sku=sku)


def products_lock(*, skus: Iterable[str], held_by: Iterable[uuid.UUID] = ()) -> None:
    """Lock, in SKU order, these products and those the given orders' reservations hold."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sku FROM {PRODUCT_TABLE} WHERE sku = ANY(%s) OR sku IN"
            f" (SELECT sku FROM {ReservationLine._meta.db_table}"
            "   WHERE reservation_id = ANY(%s::uuid[]))"
            " ORDER BY sku FOR UPDATE",
            [sorted(skus), [str(order_id) for order_id in held_by]],
        )


@dataclasses.dataclass(frozen=True)
class ReservationRequest:
    """An order's lines to reserve, and the event that asked."""

    order_id: uuid.UUID
    lines: Sequence[OrderLine]
    causation_id: uuid.UUID | None = None


@dataclasses.dataclass
class _LockedProduct:
    available: int
    threshold: int
    unit_price: Decimal


def stock_reserve_many(*, requests: Sequence[ReservationRequest]) -> list[Reservation]:
    """Reserve orders first come first served, each all lines or none, and say which it was.

    The batch locks its products once, in SKU order, so every decision below sees stock
    that no one else changes before this transaction ends; a hot SKU changes hands once per
    batch rather than once per order.
    """
    # Plain SQL on this path: the ORM's query building cost more than PostgreSQL's work.
    known = {
        reservation.order_id: reservation
        for reservation in Reservation.objects.raw(
            f"SELECT * FROM {RESERVATION_TABLE} WHERE order_id = ANY(%s::uuid[])"
            " ORDER BY order_id FOR UPDATE",
            [[str(request.order_id) for request in requests]],
        )
    }
    skus = sorted({line.sku for r in requests if r.order_id not in known for line in r.lines})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sku, available_quantity, low_stock_threshold, unit_price"
            f" FROM {PRODUCT_TABLE} WHERE sku = ANY(%s) ORDER BY sku FOR UPDATE",
            [skus],
        )
        stock = {
            sku: _LockedProduct(available, threshold, price)
            for sku, available, threshold, price in cursor.fetchall()
        }
    decided: dict[uuid.UUID, tuple[Reservation, Contract | None]] = {}
    results: list[Reservation] = []
    lines: list[tuple[uuid.UUID, ReservedLine]] = []
    taken: dict[str, int] = {}
    outbox: list[OutboxEntry] = []
    for request in requests:
        correlation_id = str(request.order_id)
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
        answer: Contract | None
        try:
            reserved, level_events = _lines_take(request.lines, stock)
        except _ReservationRefused as refused:
            reservation = Reservation(
                order_id=request.order_id,
                status=ReservationStatus.REJECTED,
                reason=refused.reason,
                reason_code=refused.code,
                rejected_sku=refused.sku,
            )
            answer = ReservationFailedIntegrationEvent(
                order_id=request.order_id,
                reason_code=refused.code,  # type: ignore[arg-type]
                reason=refused.reason,
                sku=refused.sku,
            )
            level_events = []
        else:
            reservation = Reservation(order_id=request.order_id, status=ReservationStatus.RESERVED)
            for line in reserved:
                lines.append((request.order_id, line))
                taken[line.sku] = taken.get(line.sku, 0) + line.quantity
            total = sum((line.unit_price * line.quantity for line in reserved), Decimal("0"))
            answer = StockReservedIntegrationEvent(
                order_id=request.order_id, lines=tuple(reserved), total_amount=total
            )
        decided[request.order_id] = (reservation, answer)
        results.append(reservation)
        outbox += [(e, correlation_id, request.causation_id) for e in (answer, *level_events)]
    _stock_take(taken)
    _reservations_insert([reservation for reservation, _ in decided.values()], lines)
    outbox_publish_all(outbox)
    return results


def stock_release(*, order_id: uuid.UUID, causation_id: uuid.UUID | None = None) -> Reservation:
    """Give back what an order holds and confirm it, whether or not anything was held."""
    correlation_id = str(order_id)
    reservation, created = Reservation.objects.select_for_update().get_or_create(
        order_id=order_id,
        defaults={
            "status": ReservationStatus.CANCELLED,
            "reason": "cancelled before it was reserved",
        },
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
            row = _stock_move(
                "available_quantity = available_quantity + %(q)s,"
                " reserved_quantity = reserved_quantity - %(q)s",
                sku=line.product_id,
                quantity=line.quantity,
            )
            assert row is not None, "a reserved product cannot disappear (PROTECT)"
            after, threshold, _price = row
            levels.append(
                StockLevel(
                    sku=line.product_id, available_quantity=after, low_stock_threshold=threshold
                )
            )
            events += _level_events(
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
    outbox_publish(
        StockLevelNormalizedIntegrationEvent(order_id=order_id, levels=tuple(levels)),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    if events:
        outbox_publish(*events, correlation_id=correlation_id, causation_id=causation_id)
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
        _stock_move(
            "reserved_quantity = reserved_quantity - %(q)s, sold_quantity = sold_quantity + %(q)s",
            sku=line.product_id,
            quantity=line.quantity,
        )
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
            reason_code=reservation.reason_code,  # type: ignore[arg-type]
            reason=reservation.reason,
            sku=reservation.rejected_sku or None,
        )
    return None  # released or cancelled: the cancellation confirms


def _lines_take(
    lines: Sequence[OrderLine], stock: dict[str, _LockedProduct]
) -> tuple[list[ReservedLine], list[Contract]]:
    """Take every line from the locked `stock`, or none; the lines and stock-level events."""
    reserved: list[ReservedLine] = []
    events: list[Contract] = []
    for line in sorted(lines, key=lambda l: l.sku):
        product = stock.get(line.sku)
        refusal = None
        if product is None:
            refusal = _ReservationRefused("unknown_sku", f"Unknown SKU {line.sku}.", line.sku)
        elif product.available < line.quantity:
            refusal = _ReservationRefused(
                "insufficient_stock",
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
        events += _level_events(
            line.sku,
            before=product.available + line.quantity,
            after=product.available,
            threshold=product.threshold,
        )
    return reserved, events


def _stock_take(taken: dict[str, int]) -> None:
    """Move reserved units out of available stock, for every SKU in one statement."""
    if not taken:
        return
    skus = sorted(taken)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PRODUCT_TABLE} AS p"
            " SET available_quantity = p.available_quantity - t.quantity,"
            " reserved_quantity = p.reserved_quantity + t.quantity, updated_at = now()"
            " FROM unnest(%s::text[], %s::int[]) AS t(sku, quantity) WHERE p.sku = t.sku",
            [skus, [taken[sku] for sku in skus]],
        )


def _reservations_insert(
    reservations: Sequence[Reservation], lines: Sequence[tuple[uuid.UUID, ReservedLine]]
) -> None:
    """INSERT new reservations and their lines (order id, reserved line) in one statement;
    the lines' foreign key is checked at commit."""
    if not reservations:
        return
    now = timezone.now()
    for reservation in reservations:
        reservation.created_at = reservation.updated_at = now
        reservation._state.adding, reservation._state.db = False, connection.alias
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH r AS (INSERT INTO {RESERVATION_TABLE}"
            " (order_id, status, reason, reason_code, rejected_sku, created_at, updated_at)"
            " SELECT *, %s, %s"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[]))"
            f" INSERT INTO {ReservationLine._meta.db_table}"
            " (reservation_id, sku, quantity, unit_price)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::numeric[])",
            [
                now,
                now,
                [str(r.order_id) for r in reservations],
                [r.status for r in reservations],
                [r.reason for r in reservations],
                [r.reason_code for r in reservations],
                [r.rejected_sku for r in reservations],
                [str(order_id) for order_id, _ in lines],
                [line.sku for _, line in lines],
                [line.quantity for _, line in lines],
                [line.unit_price for _, line in lines],
            ],
        )


def _stock_move(assignments: str, *, sku: str, quantity: int) -> tuple[int, int, Decimal] | None:
    """Apply one UPDATE to a product; the new level, threshold and price, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PRODUCT_TABLE} SET {assignments}, updated_at = now()"
            " WHERE sku = %(sku)s"
            " RETURNING available_quantity, low_stock_threshold, unit_price",
            {"sku": sku, "q": quantity},
        )
        return cursor.fetchone()


def _level_events(sku: str, *, before: int, after: int, threshold: int) -> list[Contract]:
    """The stock-level events for a move from `before` to `after` available units."""
    events: list[Contract] = []
    if after < before:
        if before > threshold >= after:
            events.append(
                StockLevelWarningIntegrationEvent(
                    sku=sku, available_quantity=after, low_stock_threshold=threshold
                )
            )
        if after == 0:
            events.append(StockDepletedIntegrationEvent(sku=sku))
    elif before <= threshold < after:
        events.append(
            StockLevelNormalizedIntegrationEvent(
                levels=(
                    StockLevel(sku=sku, available_quantity=after, low_stock_threshold=threshold),
                )
            )
        )
    return events
