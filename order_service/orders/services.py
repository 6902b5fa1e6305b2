"""What the Order API asks: each use case changes the order and appends its events in one
transaction. What inventory's events cause is in `reactions`; the stuck-order sweep in
`sweeper`; every status change goes through `transitions`."""

import dataclasses
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from order_service.orders import sql
from order_service.orders.models import Order, OrderLine
from order_service.orders.statuses import OrderStatus, can_transition
from order_service.orders.transitions import order_transition
from service_platform.api import ConflictError, NotFoundError, UnprocessableError
from service_platform.db import saved_instance
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    OrderCreatedIntegrationEvent,
)
from shared_events.contracts import OrderLine as OrderLineContract
from shared_events.django.outbox import outbox_append


@dataclasses.dataclass(frozen=True)
class OrderLineInput:
    sku: str
    quantity: int


def order_create(
    *,
    customer_id: str,
    lines: Sequence[OrderLineInput],
    shipping_address: str = "",
    note: str = "",
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> Order:
    """Place an order; inventory is asked to reserve its stock.

    The order comes back as it was written, its lines included, without reading it back.
    """
    now = timezone.now()
    row = sql.OrderRow(
        id=uuid.uuid4(),
        customer_id=customer_id,
        status=OrderStatus.PENDING,
        status_reason="",
        total_amount=None,
        shipping_address=shipping_address,
        note=note,
        saga_retries=0,
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        created_at=now,
        updated_at=now,
    )
    new_lines = [sql.NewOrderLine(sku=line.sku, quantity=line.quantity) for line in lines]
    with transaction.atomic():
        line_ids = sql.order_insert(row, new_lines)
        outbox_append(order_created_event(row.id, customer_id, lines), correlation_id=str(row.id))
    saved_lines = [
        saved_instance(
            OrderLine,
            {"id": line_id, "order_id": row.id, **line._asdict(), "unit_price": None},
        )
        for line_id, line in zip(line_ids, new_lines, strict=True)
    ]
    return saved_instance(Order, row._asdict(), prefetched={"lines": saved_lines})


def order_created_event(
    order_id: uuid.UUID, customer_id: str, lines: Sequence[OrderLineInput]
) -> OrderCreatedIntegrationEvent:
    """The event that asks inventory to reserve an order's lines."""
    return OrderCreatedIntegrationEvent(
        order_id=order_id,
        customer_id=customer_id,
        lines=tuple(OrderLineContract(sku=l.sku, quantity=l.quantity) for l in lines),
    )


def order_create_idempotent(
    *,
    idempotency_key: str,
    request_fingerprint: str,
    customer_id: str,
    lines: Sequence[OrderLineInput],
    shipping_address: str = "",
    note: str = "",
) -> tuple[Order, bool]:
    """Place an order once per customer and key: a retry gets the original order and False."""
    for _ in range(2):
        existing = Order.objects.filter(
            customer_id=customer_id, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            if existing.request_fingerprint != request_fingerprint:
                raise UnprocessableError(
                    "This Idempotency-Key was already used with a different request.",
                    extra={"idempotency_key": idempotency_key, "order_id": str(existing.id)},
                )
            return existing, False
        try:
            order = order_create(
                customer_id=customer_id,
                lines=lines,
                shipping_address=shipping_address,
                note=note,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
            )
            return order, True
        except IntegrityError:
            continue  # a concurrent request with the same key won; read its order
    raise RuntimeError("unreachable: the key exists after a unique violation")


def order_cancel(*, order_id: uuid.UUID, reason: str = "", customer_id: str | None = None) -> Order:
    """Start cancelling an order (one of `customer_id`'s, unless None); it is cancelled once
    inventory released its stock."""
    with transaction.atomic():
        order = _order_lock(order_id, customer_id=customer_id)
        if order.status in (OrderStatus.CANCELLING, OrderStatus.CANCELLED):
            return order  # already on its way: cancelling twice is harmless
        if not can_transition(order.status, OrderStatus.CANCELLING):
            raise ConflictError(
                f"An order that is {order.status} cannot be cancelled.",
                extra={"status": order.status},
            )
        order_transition(order, OrderStatus.CANCELLING, reason=reason)
        outbox_append(
            OrderCancelledIntegrationEvent(order_id=order.id, reason=reason),
            correlation_id=str(order.id),
        )
    return order


def order_ship(*, order_id: uuid.UUID) -> Order:
    """Ship a confirmed order; inventory turns its reservation into a sale."""
    with transaction.atomic():
        order = _order_lock(order_id)
        if order.status != OrderStatus.CONFIRMED:
            raise ConflictError(
                f"Only confirmed orders can be shipped; this one is {order.status}.",
                extra={"status": order.status},
            )
        order_transition(order, OrderStatus.SHIPPED)
    return order


def order_update(
    *,
    order_id: uuid.UUID,
    shipping_address: str | None = None,
    note: str | None = None,
    customer_id: str | None = None,
) -> Order:
    """Change the fields that play no part in the saga, while the order is not final (one
    of `customer_id`'s, unless None)."""
    with transaction.atomic():
        order = _order_lock(order_id, customer_id=customer_id)
        if order.is_final:
            raise ConflictError(
                f"An order that is {order.status} can no longer be changed.",
                extra={"status": order.status},
            )
        if shipping_address is not None:
            order.shipping_address = shipping_address
        if note is not None:
            order.note = note
        order.save(update_fields=["shipping_address", "note", "updated_at"])
    return order


def _order_lock(order_id: uuid.UUID, *, customer_id: str | None = None) -> Order:
    """The order, locked; another customer's order is not found, as if it did not exist."""
    order = sql.orders_lock([order_id]).get(order_id)
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise NotFoundError("Order not found.", extra={"id": str(order_id)})
    return order
