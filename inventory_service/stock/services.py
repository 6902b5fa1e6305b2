"""What the Product API asks: each use case changes a product and appends its events in one
transaction. What the Order Service's events cause is in `reactions`."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from inventory_service.stock import sql
from inventory_service.stock.levels import level_events
from inventory_service.stock.models import Product
from service_platform.api import ConflictError, NotFoundError
from shared_events.django.outbox import outbox_append


def product_create(
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    available_quantity: int = 0,
    low_stock_threshold: int = 10,
) -> Product:
    """Add a product with its initial stock; a SKU that exists already is a conflict."""
    if Product.objects.filter(sku=sku).exists():
        raise ConflictError("A product with this SKU already exists.", extra={"sku": sku})
    try:
        with transaction.atomic():
            return Product.objects.create(
                sku=sku,
                name=name,
                unit_price=unit_price,
                available_quantity=available_quantity,
                received_quantity=available_quantity,
                low_stock_threshold=low_stock_threshold,
            )
    except IntegrityError as exc:  # a concurrent request added the same SKU first
        raise ConflictError("A product with this SKU already exists.", extra={"sku": sku}) from exc


def product_update(
    *,
    sku: str,
    name: str | None = None,
    unit_price: Decimal | None = None,
    low_stock_threshold: int | None = None,
) -> Product:
    """Change a product's description, price or threshold (stock moves only by restock)."""
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            raise NotFoundError("Product not found.", extra={"sku": sku})
        if name is not None:
            product.name = name
        if unit_price is not None:
            product.unit_price = unit_price
        if low_stock_threshold is not None:
            product.low_stock_threshold = low_stock_threshold
        product.save()
    return product


def product_restock(*, sku: str, quantity: int) -> Product:
    """Receive `quantity` more units of a product."""
    with transaction.atomic():
        level = sql.product_stock_move(sql.StockMove.RESTOCK, sku=sku, quantity=quantity)
        if level is None:
            raise NotFoundError("Product not found.", extra={"sku": sku})
        after, threshold = level.available_quantity, level.low_stock_threshold
        events = level_events(sku, before=after - quantity, after=after, threshold=threshold)
        if events:
            outbox_append(*events)
    return Product.objects.get(sku=sku)
