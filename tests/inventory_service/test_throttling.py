"""Anonymous reads of the catalog are throttled per address: 429 with Retry-After."""

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from tests.inventory_service.factories import product_create
from tests.support.throttles import fresh_throttle_counters
from tests.support.tokens import access_token

pytestmark = pytest.mark.django_db


def test_anonymous_reads_are_throttled_per_address_and_users_are_not():
    product_create(sku="READ-1")
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon_read": "2/min"}
    with (
        fresh_throttle_counters(),
        override_settings(
            REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        ),
    ):
        anonymous = APIClient(REMOTE_ADDR="10.0.4.1")
        answers = [anonymous.get(path) for path in ("/api/products/", "/api/products/READ-1/")]
        assert [a.status_code for a in answers] == [200, 200]
        throttled = anonymous.get("/api/products/")
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
        assert APIClient(REMOTE_ADDR="10.0.4.2").get("/api/products/").status_code == 200
        user = APIClient(REMOTE_ADDR="10.0.4.1")
        user.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(9)}")
        assert user.get("/api/products/").status_code == 200
