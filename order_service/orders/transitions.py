"""The one way an order's status changes: in memory, in the database, and on the outbox.

Every status change (an API use case, a saga reaction, the sweeper) goes through here:
`status_change` moves an order in memory and returns the event that announces it (a batch
decides its next order on what the previous ones changed); `orders_status_write` writes the
orders in one statement and appends their events, in the caller's transaction.
`orders_transition` does both.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from django.utils import timezone

from order_service.orders import metrics as order_metrics
from order_service.orders import sql
from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus, can_transition
from shared_events.contracts import OrderStatusChangedIntegrationEvent, OrderStatusName
from shared_events.django.outbox import OutboxEntry, outbox_append_entries

logger = logging.getLogger(__name__)


class StatusChange(NamedTuple):
    """Move `order` (locked by the caller) to `new_status`, because of `causation_id`."""

    order: Order
    new_status: OrderStatus
    reason: str = ""
    causation_id: uuid.UUID | None = None


def orders_transition(changes: Sequence[StatusChange]) -> None:
    """Change each order's status, write them all at once, and announce each change."""
    entries = [status_change(change) for change in changes]
    orders_status_write([change.order for change in changes], entries)


def orders_status_write(orders: Sequence[Order], announcements: Sequence[OutboxEntry]) -> None:
    """Write orders moved by `status_change` and append the events it returned."""
    if orders:
        sql.orders_status_save(orders)
        outbox_append_entries(announcements)


def order_transition(
    order: Order,
    new_status: OrderStatus,
    *,
    reason: str = "",
    causation_id: uuid.UUID | None = None,
) -> None:
    orders_transition([StatusChange(order, new_status, reason, causation_id)])


def transition_applies(order: Order, new_status: OrderStatus, what: str) -> bool:
    """Whether an event may still move `order` to `new_status`; log it when not."""
    if can_transition(order.status, new_status):
        return True
    # Duplicates, late and out-of-order events land here; the saga has moved on.
    logger.info(
        "%s ignored for order %s: it is %s",
        what,
        order.id,
        order.status,
        extra={"correlation_id": str(order.id)},
    )
    return False


def status_change(change: StatusChange) -> OutboxEntry:
    """Move the order to its new status in memory; return the event that announces it."""
    order, new_status = change.order, change.new_status
    old_status = order.status
    order.status = new_status
    order.status_reason = change.reason
    order.updated_at = timezone.now()
    order_metrics.order_transition_record(order=order, new_status=new_status)
    logger.info(
        "order %s %s -> %s",
        order.id,
        old_status,
        new_status,
        extra={"correlation_id": str(order.id)},
    )
    event = OrderStatusChangedIntegrationEvent(
        order_id=order.id,
        old_status=OrderStatusName(old_status),
        new_status=OrderStatusName(new_status),
        reason=change.reason,
    )
    return event, str(order.id), change.causation_id
