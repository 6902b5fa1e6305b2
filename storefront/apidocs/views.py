"""The public API's one OpenAPI document, served through the gateway at /api/schema/, and
its Swagger UI at /api/docs/ (drf-spectacular-sidecar's files, served here: no CDN).

The document is the services' own documents merged (service_platform.openapi_merge), with
the address the client used as the server; it is fetched again after a minute.
"""

from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from service_platform.openapi_merge import OpenApiMergeError, openapi_documents_merge
from storefront.request_ids import REQUEST_ID_HEADER, current_request_id

TITLE = "Saga public API"
CACHE_KEY, CACHE_SECONDS = "apidocs:service-documents", 60


def service_documents() -> list[dict[str, Any]]:
    """Both services' documents, at most CACHE_SECONDS old."""
    cached: list[dict[str, Any]] | None = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    headers = {"Accept": "application/json", REQUEST_ID_HEADER: current_request_id.get()}
    documents = []
    with httpx.Client(timeout=settings.API_TIMEOUT_SECONDS, headers=headers) as client:
        for base in (settings.ORDER_API_URL, settings.INVENTORY_API_URL):
            response = client.get(f"{base}/api/schema/", params={"format": "json"})
            response.raise_for_status()
            documents.append(response.json())
    cache.set(CACHE_KEY, documents, CACHE_SECONDS)
    return documents


def public_api_schema(request: HttpRequest) -> HttpResponse:
    try:
        documents = service_documents()
    except (httpx.HTTPError, ValueError):
        return JsonResponse(
            {"message": "The services' API documents are unavailable; try again.", "extra": {}},
            status=503,
        )
    try:
        document = openapi_documents_merge(
            documents, server_url=request.build_absolute_uri("/").rstrip("/"), title=TITLE
        )
    except OpenApiMergeError as exc:
        return JsonResponse({"message": str(exc), "extra": {}}, status=500)
    return JsonResponse(document)


def public_api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "apidocs/swagger.html", {"title": TITLE})
