import uuid

from django.db import models
from django.db.models import Q

from order_service.orders.statuses import FINAL_STATUSES, OrderStatus


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_id = models.CharField(max_length=100, db_index=True)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True
    )
    status_reason = models.CharField(max_length=500, blank=True)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    shipping_address = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # Times the saga step was re-sent because the other service was late to answer.
    saga_retries = models.PositiveSmallIntegerField(default=0)
    # Unique per customer (see Meta): one customer's key says nothing about another's orders.
    # NULL, not "", for no key: NULLs never collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="order_in_flight_idx",
                condition=Q(status__in=["pending", "cancelling"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__isnull=True) | Q(total_amount__gte=0),
                name="order_total_not_negative",
            ),
            models.UniqueConstraint(
                fields=["customer_id", "idempotency_key"], name="order_idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class OrderLine(models.Model):
    # No index of its own: the unique (order, sku) constraint's index starts with it.
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE, db_index=False)
    sku = models.CharField(max_length=40)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="order_line_unique_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
