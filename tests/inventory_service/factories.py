import uuid
from decimal import Decimal

from inventory_service.stock import services
from inventory_service.stock.models import Product
from shared_events.registry import Event


def product_create(**overrides) -> Product:  # type: ignore[no-untyped-def]
    fields = {
        "sku": f"SKU-{uuid.uuid4().hex[:8].upper()}",
        "name": "Test product",
        "unit_price": Decimal("10.00"),
        "available_quantity": 10,
        "low_stock_threshold": 3,
        **overrides,
    }
    return services.product_create(**fields)


def event(payload, *, event_id: uuid.UUID | None = None) -> Event:  # type: ignore[no-untyped-def]
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type=payload.event_type,
        event_version=payload.event_version,
        occurred_at=None,  # type: ignore[arg-type]
        producer="order-service",
        correlation_id=str(payload.order_id),
        causation_id=None,
        payload=payload,
    )
