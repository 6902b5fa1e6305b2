"""Stock queries."""

from django.db.models import F, Q, QuerySet

from inventory_service.stock.levels import StockLevelName, stock_level_filter
from inventory_service.stock.models import Product
from service_platform.api import NotFoundError


def product_list(
    *, low_stock: bool | None = None, search: str = "", stock: StockLevelName | None = None
) -> QuerySet[Product]:
    products = Product.objects.order_by("sku")
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if stock is not None:
        products = products.filter(stock_level_filter(stock))
    if low_stock is True:
        products = products.filter(available_quantity__lte=F("low_stock_threshold"))
    elif low_stock is False:
        products = products.filter(available_quantity__gt=F("low_stock_threshold"))
    return products


def product_get(*, sku: str) -> Product:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise NotFoundError("Product not found.", extra={"sku": sku})
    return product
