from order_service.orders import services
from order_service.orders.models import Order
from tests.support.events import event


def order_create(**overrides) -> Order:
    fields = {
        "customer_id": "customer-1",
        "lines": [
            services.OrderLineInput(sku="KEYBOARD-01", quantity=2),
            services.OrderLineInput(sku="MOUSE-01", quantity=1),
        ],
        **overrides,
    }
    return services.order_create(**fields)


__all__ = ["event", "order_create"]
