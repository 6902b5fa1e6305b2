"""The order state machine."""

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLING}
    ),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.CANCELLING, OrderStatus.SHIPPED}),
    OrderStatus.CANCELLING: frozenset({OrderStatus.CANCELLED}),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.SHIPPED: frozenset(),
}

FINAL_STATUSES = frozenset(s for s, nexts in ALLOWED_TRANSITIONS.items() if not nexts)


def can_transition(old: str, new: str) -> bool:
    return new in ALLOWED_TRANSITIONS[old]
