"""The Order Service's hand-written SQL.

Placing an order and confirming a batch of them are the service's hot paths: there the
ORM spent more CPU building statements than PostgreSQL spent running them, so each write
is one plain statement. Rows travel as named tuples.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from order_service.orders.models import Order, OrderLine

ORDER_TABLE = Order._meta.db_table
ORDER_LINE_TABLE = OrderLine._meta.db_table


class OrderRow(NamedTuple):
    """Every column of an order."""

    id: uuid.UUID
    customer_id: str
    status: str
    status_reason: str
    total_amount: Decimal | None
    shipping_address: str
    note: str
    saga_retries: int
    idempotency_key: str | None
    request_fingerprint: str
    created_at: datetime
    updated_at: datetime


class NewOrderLine(NamedTuple):
    sku: str
    quantity: int


def order_insert(order: OrderRow, lines: Sequence[NewOrderLine]) -> list[int]:
    """INSERT an order and its lines in one statement; return the lines' ids, in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH new_order AS (
                INSERT INTO {ORDER_TABLE}
                       (id, customer_id, status, status_reason, total_amount, shipping_address,
                        note, saga_retries, idempotency_key, request_fingerprint, created_at,
                        updated_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            )
            INSERT INTO {ORDER_LINE_TABLE} (order_id, sku, quantity)
            SELECT %s, * FROM unnest(%s::text[], %s::int[])
            RETURNING id
            """,  # noqa: S608 - only the model's table name is interpolated; values are parameters
            [
                *order,
                order.id,
                [line.sku for line in lines],
                [line.quantity for line in lines],
            ],
        )
        # RETURNING follows the order of unnest's rows (bulk_create relies on it too).
        return [row_id for (row_id,) in cursor.fetchall()]


def orders_lock(order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Order]:
    """Lock the orders that exist among `order_ids` and read them.

    Every path that changes orders locks them here, in id order, so that two transactions
    changing the same orders wait for each other instead of deadlocking.
    """
    return {
        order.id: order
        for order in Order.objects.raw(
            f"SELECT * FROM {ORDER_TABLE} WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",  # noqa: S608 - only the model's table name is interpolated; values are parameters
            [[str(order_id) for order_id in order_ids]],
        )
    }


def orders_status_save(orders: Sequence[Order]) -> None:
    """Write the orders' status, reason, total and update time in one statement (bulk_update's
    CASE per field and row cost more than the rest of confirming a batch)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ORDER_TABLE} AS o SET status = u.status,"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " status_reason = u.status_reason, total_amount = u.total_amount,"
            " updated_at = u.updated_at"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::numeric[], %s::timestamptz[])"
            " AS u(id, status, status_reason, total_amount, updated_at) WHERE o.id = u.id",
            [
                [str(o.id) for o in orders],
                [o.status for o in orders],
                [o.status_reason for o in orders],
                [o.total_amount for o in orders],
                [o.updated_at for o in orders],
            ],
        )


class LinePrice(NamedTuple):
    order_id: uuid.UUID
    sku: str
    unit_price: Decimal


def order_line_prices_set(prices: Sequence[LinePrice]) -> None:
    """Set the reserved unit price of every (order, SKU) line in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ORDER_LINE_TABLE} AS l SET unit_price = p.unit_price"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " FROM unnest(%s::uuid[], %s::text[], %s::numeric[]) AS p(order_id, sku, unit_price)"
            " WHERE l.order_id = p.order_id AND l.sku = p.sku",
            [
                [str(p.order_id) for p in prices],
                [p.sku for p in prices],
                [p.unit_price for p in prices],
            ],
        )


def order_lines_read(order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """The ordered quantity of each SKU, by order."""
    lines: dict[uuid.UUID, dict[str, int]] = {order_id: {} for order_id in order_ids}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT order_id, sku, quantity FROM {ORDER_LINE_TABLE}"  # noqa: S608 - only the model's table name is interpolated; values are parameters
            " WHERE order_id = ANY(%s::uuid[])",
            [[str(order_id) for order_id in order_ids]],
        )
        for order_id, sku, quantity in cursor.fetchall():
            lines[order_id][sku] = quantity
    return lines
