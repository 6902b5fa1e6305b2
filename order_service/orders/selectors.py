"""Order queries."""

import uuid

from django.db.models import QuerySet

from order_service.orders.models import Order
from service_platform.api import NotFoundError
from shared_events.django.timeline import TimelineEntry, event_timeline


def order_list(*, customer_id: str | None = None) -> QuerySet[Order]:
    """Newest first; only `customer_id`'s orders unless it is None."""
    orders = Order.objects.prefetch_related("lines").order_by("-created_at")
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    return orders


def order_get(*, order_id: uuid.UUID, customer_id: str | None = None) -> Order:
    """The order; another customer's order is not found, as if it did not exist."""
    order = order_list(customer_id=customer_id).filter(id=order_id).first()
    if order is None:
        raise NotFoundError("Order not found.", extra={"id": str(order_id)})
    return order


def order_timeline(
    *, order_id: uuid.UUID, customer_id: str | None = None
) -> tuple[Order, list[TimelineEntry]]:
    """The order and every event this service published and consumed for it, in order."""
    order = order_get(order_id=order_id, customer_id=customer_id)
    return order, event_timeline(correlation_id=str(order.id), producer="order-service")
