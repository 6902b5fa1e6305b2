"""Order Service: the order lifecycle and its side of the saga."""

from order_service.celery import app as celery_app

__all__ = ["celery_app"]
