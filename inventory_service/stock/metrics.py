"""Stock metrics, computed when /metrics is scraped."""

from collections.abc import Iterable

from django.db.models import Count, F, Q
from prometheus_client.core import Metric

from inventory_service.stock.models import Product, Reservation, ReservationStatus
from shared_events.observability.metrics import CachedCollector, labelled_gauge


class StockCollector(CachedCollector):
    def compute(self) -> Iterable[Metric]:
        products = Product.objects.aggregate(
            low=Count("sku", filter=Q(available_quantity__lte=F("low_stock_threshold"))),
            depleted=Count("sku", filter=Q(available_quantity=0)),
            total=Count("sku"),
        )
        yield labelled_gauge(
            "saga_products",
            "Products by stock level (low: at or below their threshold).",
            ["level"],
            [(level, products[level]) for level in ("total", "low", "depleted")],
        )
        counts = dict(
            Reservation.objects.order_by().values_list("status").annotate(n=Count("order_id"))
        )
        yield labelled_gauge(
            "saga_reservations",
            "Reservations by status.",
            ["status"],
            [(status, counts.get(status, 0)) for status in ReservationStatus.values],
        )
