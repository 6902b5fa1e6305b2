"""Request bodies are bounded before parsing; /metrics is not for the public port."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from order_service.orders.models import Order
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db


def _customer() -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(7)}")
    return api


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_64_kib_is_413_before_it_is_parsed(content_type):
    body = json.dumps({"lines": [{"sku": "AB", "quantity": 1}], "note": "x" * 70_000})
    response = _customer().generic("POST", "/api/orders/", body, content_type=content_type)
    assert response.status_code == 413
    assert response.json()["extra"] == {"max_bytes": 64 * 1024}
    assert not Order.objects.exists()


def test_a_body_under_the_limit_is_parsed_as_usual():
    body = json.dumps({"lines": [{"sku": "AB", "quantity": 1}], "note": "x" * 1_000})
    response = _customer().generic("POST", "/api/orders/", body, content_type="application/json")
    assert response.status_code == 201


def test_metrics_answer_a_loopback_scraper_and_hide_from_anyone_else():
    assert APIClient(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert APIClient(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert APIClient(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
    # Through a proxy on this host every client would look local.
    proxied = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN="scrape-secret")
def test_metrics_answer_the_bearer_metrics_token_from_anywhere():
    remote = APIClient(REMOTE_ADDR="203.0.113.9")
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert remote.get("/metrics").status_code == 404
