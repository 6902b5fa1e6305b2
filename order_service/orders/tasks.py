"""Celery tasks of the Order Service: thin wrappers over services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from order_service.orders import sweeper


@shared_task(name="orders.settle_stuck_orders", ignore_result=True)
def settle_stuck_orders() -> dict[str, int]:
    """Re-send or settle saga steps that got no answer in time."""
    return sweeper.orders_settle_stuck(
        timeout=timedelta(seconds=settings.ORDER_SAGA_TIMEOUT_SECONDS),
        max_retries=settings.ORDER_SAGA_MAX_RETRIES,
    )
