"""Order metrics: orders by status (computed when scraped) and saga durations (observed)."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import Metric

from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus
from shared_events.observability.metrics import (
    SAGA_DURATION_SECONDS,
    CachedCollector,
    gauge,
    labelled_gauge,
)

# The points where a saga settles: the creation saga (confirmed or rejected), the
# cancellation saga (cancelled), and shipping, which ends the order's life.
SAGA_OUTCOMES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
)
IN_FLIGHT = (OrderStatus.PENDING, OrderStatus.CANCELLING)


def order_transition_record(*, order: Order, new_status: str) -> None:
    """Observe created → outcome once the transition commits."""
    if new_status not in SAGA_OUTCOMES:
        return
    seconds = max((timezone.now() - order.created_at).total_seconds(), 0.0)
    transaction.on_commit(lambda: SAGA_DURATION_SECONDS.labels(str(new_status)).observe(seconds))


class OrderStatusCollector(CachedCollector):
    def compute(self) -> Iterable[Metric]:
        counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("id")))
        yield labelled_gauge(
            "saga_orders",
            "Orders by status.",
            ["status"],
            [(status, counts.get(status, 0)) for status in OrderStatus.values],
        )
        oldest = Order.objects.filter(status__in=IN_FLIGHT).aggregate(at=Min("updated_at"))["at"]
        yield gauge(
            "saga_orders_oldest_in_flight_age_seconds",
            "How long the longest-waiting pending or cancelling order has waited (0 when none).",
            (timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )
