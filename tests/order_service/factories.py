import uuid

from order_service.orders import services
from order_service.orders.models import Order
from shared_events.registry import Event


def order_create(**overrides) -> Order:  # type: ignore[no-untyped-def]
    fields = {
        "customer_id": "customer-1",
        "lines": [
            services.OrderLineInput(sku="KEYBOARD-01", quantity=2),
            services.OrderLineInput(sku="MOUSE-01", quantity=1),
        ],
        **overrides,
    }
    return services.order_create(**fields)


def event(payload, *, event_id: uuid.UUID | None = None) -> Event:  # type: ignore[no-untyped-def]
    return Event(
        event_id=event_id or uuid.uuid4(),
        event_type=payload.event_type,
        event_version=payload.event_version,
        occurred_at=None,  # type: ignore[arg-type]
        producer="inventory-service",
        correlation_id=str(getattr(payload, "order_id", "")),
        causation_id=None,
        payload=payload,
    )
