"""Order queries."""

import uuid

from django.db.models import QuerySet

from order_service.orders.models import Order
from service_platform.api import NotFoundError
from shared_events.django.timeline import TimelineEntry, event_timeline


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related("lines").order_by("-created_at")


def order_get(*, order_id: uuid.UUID) -> Order:
    order = order_list().filter(id=order_id).first()
    if order is None:
        raise NotFoundError("Order not found.", extra={"id": str(order_id)})
    return order


def order_timeline(*, order_id: uuid.UUID) -> tuple[Order, list[TimelineEntry]]:
    """The order and every event this service published and consumed for it, in order."""
    order = order_get(order_id=order_id)
    return order, event_timeline(correlation_id=str(order.id), producer="order-service")
