"""Inventory Service: products, stock levels and reservations."""

from inventory_service.celery import app as celery_app

__all__ = ["celery_app"]
