"""`manage.py seed_demo_products`: a few products to try the saga with."""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from inventory_service.stock.models import Product
from inventory_service.stock.services import product_create

DEMO_PRODUCTS = [
    ("KEYBOARD-01", "Mechanical keyboard", Decimal("89.00"), 100, 10),
    ("MOUSE-01", "Wireless mouse", Decimal("25.50"), 200, 20),
    ("MONITOR-27", "27-inch monitor", Decimal("249.99"), 20, 5),
    ("CABLE-USBC", "USB-C cable", Decimal("9.90"), 500, 50),
    ("LAMP-DESK", "Desk lamp", Decimal("39.00"), 3, 2),
]


class Command(BaseCommand):
    help = "Create the demo products that do not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        created = []
        for sku, name, price, quantity, threshold in DEMO_PRODUCTS:
            if not Product.objects.filter(sku=sku).exists():
                product_create(
                    sku=sku,
                    name=name,
                    unit_price=price,
                    available_quantity=quantity,
                    low_stock_threshold=threshold,
                )
                created.append(sku)
        self.stdout.write(f"demo products created: {', '.join(created) or 'none (all exist)'}")
