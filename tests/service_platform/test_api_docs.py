"""OpenAPI schema and Swagger UI, served from this service's static files (no CDN)."""

import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Order Service API"
    assert {"/api/orders/", "/api/orders/{order_id}/timeline/"} <= set(schema["paths"])
    assert "202" in schema["paths"]["/api/orders/{order_id}/cancel/"]["post"]["responses"]


def test_swagger_ui_loads_its_assets_from_this_service(client):
    page = client.get("/api/docs/").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith("/") for a in assets), assets
    assert "cdn" not in page.lower()
    bundle = next(a for a in assets if "swagger-ui-bundle.js" in a)
    assert client.get(bundle).status_code == 200
