"""Settling saga steps that got no answer: a periodic sweep (Celery beat) over orders
waiting too long for inventory."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from order_service.orders.models import Order
from order_service.orders.services import OrderLineInput, order_created_event
from order_service.orders.statuses import OrderStatus
from order_service.orders.transitions import order_transition
from shared_events.contracts import OrderCancelledIntegrationEvent
from shared_events.django.outbox import outbox_append

logger = logging.getLogger(__name__)


def orders_settle_stuck(*, timeout: timedelta, max_retries: int) -> dict[str, int]:
    """Move on the orders whose saga step got no answer within `timeout`.

    A pending order is asked about again (`max_retries` times), then cancelled with a
    reason, which releases whatever inventory may hold; a cancelling order re-sends its
    cancellation until inventory confirms it. Inventory answers a repeated question again.
    """
    cutoff = timezone.now() - timeout
    counts = {"reasked": 0, "timed_out": 0, "recancelled": 0}
    stuck = Order.objects.filter(
        status__in=[OrderStatus.PENDING, OrderStatus.CANCELLING], updated_at__lt=cutoff
    )
    for order_id in stuck.values_list("id", flat=True)[:500]:
        with transaction.atomic():
            # One order at a time, skipping one that is locked: the sweep never waits, so it
            # takes no part in the lock order of `sql.orders_lock`.
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .filter(id=order_id, updated_at__lt=cutoff)
                .first()
            )
            if order is None:
                continue  # it moved on, or someone else is settling it
            correlation_id = str(order.id)
            if order.status == OrderStatus.PENDING and order.saga_retries < max_retries:
                lines = [OrderLineInput(sku=l.sku, quantity=l.quantity) for l in order.lines.all()]
                outbox_append(
                    order_created_event(order.id, order.customer_id, lines),
                    correlation_id=correlation_id,
                )
                counts["reasked"] += 1
            elif order.status == OrderStatus.PENDING:
                reason = f"Inventory did not answer within {max_retries + 1} x {timeout}."
                order_transition(order, OrderStatus.CANCELLING, reason=reason)
                outbox_append(
                    OrderCancelledIntegrationEvent(order_id=order.id, reason=reason),
                    correlation_id=correlation_id,
                )
                counts["timed_out"] += 1
            else:
                outbox_append(
                    OrderCancelledIntegrationEvent(order_id=order.id, reason=order.status_reason),
                    correlation_id=correlation_id,
                )
                counts["recancelled"] += 1
            order.saga_retries += 1
            order.save(update_fields=["saga_retries", "updated_at"])
            logger.warning(
                "order %s was stuck %s; saga step sent again",
                order.id,
                order.status,
                extra={"correlation_id": correlation_id},
            )
    return counts
