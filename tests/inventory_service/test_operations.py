"""The Inventory Service's operations endpoints: health, metrics, docs, dead-letter admin."""

import pytest
from django.contrib.auth import get_user_model

from tests.inventory_service.factories import product_create

pytestmark = pytest.mark.django_db


def test_health_and_metrics_answer_without_authentication(client):
    product_create(sku="LOW-1", available_quantity=1, low_stock_threshold=5)

    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    text = client.get("/metrics").content.decode()
    assert 'saga_products{level="low"} 1.0' in text
    assert 'saga_reservations{status="reserved"}' in text
    assert "saga_outbox_pending" in text


def test_api_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert b"swagger-ui" in client.get("/api/docs/").content


def test_admin_lists_dead_letters_and_filters_low_stock(client):
    admin = get_user_model().objects.create_superuser("admin", password="admin-password")
    client.force_login(admin)
    product_create(sku="LOW-2", available_quantity=1, low_stock_threshold=5)
    product_create(sku="PLENTY-1", available_quantity=100, low_stock_threshold=5)

    low = client.get("/admin/stock/product/?low_stock=yes").content.decode()

    assert "LOW-2" in low and "PLENTY-1" not in low
    assert client.get("/admin/shared_events/deadletter/").status_code == 200
    assert client.get("/admin/shared_events/outboxmessage/").status_code == 200
