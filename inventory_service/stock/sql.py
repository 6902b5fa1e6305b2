"""The Inventory Service's hand-written SQL.

Reserving stock is the service's hot path, and stock moves must neither oversell nor
deadlock: each statement here is one guarded round trip (the CHECK constraints on Product
are the last line of defence), where the ORM spent more CPU building statements than
PostgreSQL spent running them. Rows travel as named tuples.

Lock order: products are always locked in SKU order (`products_lock`, and the per-product
moves below, which callers make in SKU order), reservations in order-id order
(`reservations_lock`).
"""

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from inventory_service.stock.models import Product, Reservation, ReservationLine

PRODUCT_TABLE = Product._meta.db_table
RESERVATION_TABLE = Reservation._meta.db_table
RESERVATION_LINE_TABLE = ReservationLine._meta.db_table


class ProductStock(NamedTuple):
    """A locked product's stock, as a reservation decides on it."""

    sku: str
    available_quantity: int
    low_stock_threshold: int
    unit_price: Decimal


def products_lock(
    *, skus: Iterable[str], held_by: Sequence[uuid.UUID] = ()
) -> dict[str, ProductStock]:
    """Lock, in SKU order and in one statement, these products and those the reservations of
    the orders `held_by` hold; return the stock of each."""
    held = (
        ""
        if not held_by
        else (
            f" OR sku IN (SELECT sku FROM {RESERVATION_LINE_TABLE}"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " WHERE reservation_id = ANY(%s::uuid[]))"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sku, available_quantity, low_stock_threshold, unit_price"  # noqa: S608 - the table name and the fixed `held` clause above; values are parameters
            f" FROM {PRODUCT_TABLE} WHERE sku = ANY(%s){held} ORDER BY sku FOR UPDATE",
            [sorted(skus), *([[str(order_id) for order_id in held_by]] if held_by else [])],
        )
        return {row[0]: ProductStock(*row) for row in cursor.fetchall()}


class StockMove(enum.Enum):
    """Where units go, as the assignments of one UPDATE (`%(q)s` is the quantity)."""

    RESTOCK = (
        "available_quantity = available_quantity + %(q)s,"
        " received_quantity = received_quantity + %(q)s"
    )
    RELEASE = (
        "available_quantity = available_quantity + %(q)s,"
        " reserved_quantity = reserved_quantity - %(q)s"
    )
    SELL = "reserved_quantity = reserved_quantity - %(q)s, sold_quantity = sold_quantity + %(q)s"


class StockLevel(NamedTuple):
    """A product's level after a move."""

    available_quantity: int
    low_stock_threshold: int
    unit_price: Decimal


def product_stock_move(move: StockMove, *, sku: str, quantity: int) -> StockLevel | None:
    """Move `quantity` units of one product; its new level, or None if there is no such SKU."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PRODUCT_TABLE} SET {move.value}, updated_at = now()"  # noqa: S608 - the table name and a StockMove's fixed SET clause; values are parameters
            " WHERE sku = %(sku)s"
            " RETURNING available_quantity, low_stock_threshold, unit_price",
            {"sku": sku, "q": quantity},
        )
        row = cursor.fetchone()
    return None if row is None else StockLevel(*row)


def stock_take(taken: Mapping[str, int]) -> None:
    """Move reserved units out of available stock, for every SKU in one statement."""
    skus = sorted(taken)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PRODUCT_TABLE} AS p"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " SET available_quantity = p.available_quantity - t.quantity,"
            " reserved_quantity = p.reserved_quantity + t.quantity, updated_at = now()"
            " FROM unnest(%s::text[], %s::int[]) AS t(sku, quantity) WHERE p.sku = t.sku",
            [skus, [taken[sku] for sku in skus]],
        )


def reservations_lock(order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Reservation]:
    """Lock and read the reservations that exist for these orders, in order-id order."""
    return {
        reservation.order_id: reservation
        for reservation in Reservation.objects.raw(
            f"SELECT * FROM {RESERVATION_TABLE} WHERE order_id = ANY(%s::uuid[])"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " ORDER BY order_id FOR UPDATE",
            [[str(order_id) for order_id in order_ids]],
        )
    }


class NewReservation(NamedTuple):
    order_id: uuid.UUID
    status: str
    reason: str
    reason_code: str
    rejected_sku: str


class NewReservationLine(NamedTuple):
    order_id: uuid.UUID
    sku: str
    quantity: int
    unit_price: Decimal


def reservations_insert(
    reservations: Sequence[NewReservation], lines: Sequence[NewReservationLine], *, at: datetime
) -> None:
    """INSERT reservations created `at` and their lines in one statement; the lines' foreign
    key is checked at commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH r AS (INSERT INTO {RESERVATION_TABLE}"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " (order_id, status, reason, reason_code, rejected_sku, created_at, updated_at)"
            " SELECT *, %s, %s"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[]))"
            f" INSERT INTO {RESERVATION_LINE_TABLE}"
            " (reservation_id, sku, quantity, unit_price)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::numeric[])",
            [
                at,
                at,
                [str(r.order_id) for r in reservations],
                [r.status for r in reservations],
                [r.reason for r in reservations],
                [r.reason_code for r in reservations],
                [r.rejected_sku for r in reservations],
                [str(line.order_id) for line in lines],
                [line.sku for line in lines],
                [line.quantity for line in lines],
                [line.unit_price for line in lines],
            ],
        )
