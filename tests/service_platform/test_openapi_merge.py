"""One public OpenAPI document from the services' own (service_platform.openapi_merge)."""

import pytest

from service_platform.openapi_merge import OpenApiMergeError, openapi_documents_merge

SECURITY = {"jwtAuth": {"type": "http", "scheme": "bearer"}}


def _document(paths: dict, schemas: dict, title: str = "A Service") -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY},
    }


def _returns(name: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}}


ORDERS = _document(
    {
        "/api/orders/": _returns("Order"),
        "/api/auth/token/": _returns("Token"),
        "/api/ops/status/": _returns("OpsStatus"),
        "/health/ready": _returns("Health"),
    },
    {
        "Order": {"type": "object", "properties": {"line": {"$ref": "#/components/schemas/Line"}}},
        "Line": {"type": "object"},
        "Token": {"type": "object"},
        "OpsStatus": {"type": "object"},
        "Health": {"type": "object"},
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    },
)
INVENTORY = _document(
    {"/api/products/": _returns("Product"), "/api/ops/dead-letters/": _returns("Letter")},
    {
        "Product": {"type": "object"},
        "Letter": {"type": "object"},
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    },
)


def test_the_public_paths_of_both_services_with_the_gateway_as_server():
    merged = openapi_documents_merge(
        [ORDERS, INVENTORY], server_url="http://127.0.0.1:8000", title="Saga API"
    )

    assert list(merged["paths"]) == ["/api/auth/token/", "/api/orders/", "/api/products/"]
    assert merged["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert merged["info"] == {"title": "Saga API", "version": "1.0.0"}
    # the components the public paths use, through other components too; no others
    assert set(merged["components"]["schemas"]) == {"Order", "Line", "Token", "Product"}
    assert merged["components"]["securitySchemes"] == SECURITY


def test_documents_that_disagree_are_refused_rather_than_merged_wrongly():
    clashing = _document({"/api/products/x/": _returns("Product")}, {"Product": {"type": "string"}})
    with pytest.raises(OpenApiMergeError, match="components/schemas/Product"):
        openapi_documents_merge([INVENTORY, clashing], server_url="/", title="t")
    with pytest.raises(OpenApiMergeError, match="path /api/products/"):
        openapi_documents_merge([INVENTORY, INVENTORY], server_url="/", title="t")
    dangling = _document({"/api/products/": _returns("Missing")}, {})
    with pytest.raises(OpenApiMergeError, match="Missing"):
        openapi_documents_merge([dangling], server_url="/", title="t")
