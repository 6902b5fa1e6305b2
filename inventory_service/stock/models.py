from django.db import models
from django.db.models import F, Q

from inventory_service.stock.levels import StockLevelName, stock_level


class Product(models.Model):
    """A SKU and its stock. Every unit ever received is available, reserved or sold."""

    sku = models.CharField(primary_key=True, max_length=40)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    available_quantity = models.IntegerField(default=0)
    reserved_quantity = models.IntegerField(default=0)
    sold_quantity = models.IntegerField(default=0)
    received_quantity = models.IntegerField(default=0, help_text="Initial stock plus restocks.")
    low_stock_threshold = models.IntegerField(default=10)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(available_quantity__gte=0), name="product_available_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved_quantity__gte=0), name="product_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(sold_quantity__gte=0), name="product_sold_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0), name="product_threshold_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    received_quantity=F("available_quantity")
                    + F("reserved_quantity")
                    + F("sold_quantity")
                ),
                name="product_stock_conserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def is_low(self) -> bool:
        return self.available_quantity <= self.low_stock_threshold

    @property
    def stock_level(self) -> StockLevelName:
        return stock_level(available=self.available_quantity, threshold=self.low_stock_threshold)


class ReservationStatus(models.TextChoices):
    RESERVED = "reserved"
    REJECTED = "rejected"
    RELEASED = "released"
    SOLD = "sold"
    # Cancelled before inventory saw the order: a late OrderCreated reserves nothing.
    CANCELLED = "cancelled"


class Reservation(models.Model):
    """What inventory holds, or held, for one order."""

    order_id = models.UUIDField(primary_key=True)
    status = models.CharField(max_length=20, choices=ReservationStatus.choices, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    rejected_sku = models.CharField(max_length=40, blank=True)
    # When the Order Service announced the order as cancelling: only then is an
    # OrderCancelled allowed to release what is reserved (a forged one is not).
    cancellation_announced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reservation {self.order_id} ({self.status})"


class ReservationLine(models.Model):
    # No index of its own: the unique (reservation, product) constraint's index starts with it.
    reservation = models.ForeignKey(
        Reservation, related_name="lines", on_delete=models.CASCADE, db_index=False
    )
    product = models.ForeignKey(
        Product, related_name="+", on_delete=models.PROTECT, db_column="sku"
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "product"], name="reservation_line_unique_sku"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"
