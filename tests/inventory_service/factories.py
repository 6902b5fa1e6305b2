import uuid
from decimal import Decimal

from inventory_service.stock import services
from inventory_service.stock.models import Product
from tests.support.events import event


def product_create(**overrides) -> Product:
    fields = {
        "sku": f"SKU-{uuid.uuid4().hex[:8].upper()}",
        "name": "Test product",
        "unit_price": Decimal("10.00"),
        "available_quantity": 10,
        "low_stock_threshold": 3,
        **overrides,
    }
    return services.product_create(**fields)


__all__ = ["event", "product_create"]
