"""The public API's document and docs page, as the storefront serves them behind the gateway."""

import re

import httpx
import pytest

from storefront.apidocs import views

ORDERS = {
    "openapi": "3.0.3",
    "info": {"title": "Order Service API", "version": "1.0.0"},
    "paths": {"/api/orders/": {"get": {}}, "/api/ops/status/": {"get": {}}},
    "components": {},
}
PRODUCTS = {
    "openapi": "3.0.3",
    "info": {"title": "Inventory Service API", "version": "1.0.0"},
    "paths": {"/api/products/": {"get": {}}, "/health/ready": {"get": {}}},
    "components": {},
}


def test_the_schema_is_the_services_public_paths_with_the_callers_address_as_server(
    client, monkeypatch
):
    monkeypatch.setattr(views, "service_documents", lambda: [ORDERS, PRODUCTS])

    response = client.get("/api/schema/", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 200
    document = response.json()
    assert list(document["paths"]) == ["/api/orders/", "/api/products/"]
    assert document["servers"] == [{"url": "http://127.0.0.1:8000"}]


def test_services_that_do_not_answer_give_a_503_with_a_message(client, monkeypatch):
    def unavailable() -> list:
        raise httpx.ConnectError("refused")

    monkeypatch.setattr(views, "service_documents", unavailable)

    response = client.get("/api/schema/")

    assert response.status_code == 503
    assert "unavailable" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/docs/"])
def test_the_docs_page_loads_swagger_ui_from_this_site(client, path):
    page = client.get(path).content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith("/") for a in assets), assets
    assert 'data-schema-url="/api/schema/"' in page
