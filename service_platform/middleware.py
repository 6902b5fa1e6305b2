"""Middleware of both services' HTTP requests: log context and one log line per request, and
the W3C trace context a request continues."""

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from opentelemetry.trace import SpanKind

from shared_events.headers import REQUEST_ID_PATTERN, TRACEPARENT
from shared_events.observability.logging import log_context_bind, log_context_clear
from shared_events.observability.tracing import current_traceparent, span_from, tracing_enabled

QUIET_PATHS = ("/health/", "/metrics", "/static/")

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


def request_id_of(header: str | None) -> str:
    """The client's request id if it is well formed, or a new one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


# The logger name log queries and alerts already filter on.
request_logger = logging.getLogger("shared_events.request")


class BodySizeLimitMiddleware:
    """413 for a body declared larger than API_MAX_BODY_BYTES, before anything reads it.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds only form data and `request.body`; DRF's JSON
    parser reads the stream and is not bounded by it. A body sent without a length is not
    read at all (Django reads at most Content-Length bytes).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit: int = settings.API_MAX_BODY_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"message": "Content-Length is not a number.", "extra": {}}, status=400
            )
        if length > self.limit:
            return JsonResponse(
                {"message": "Request body too large.", "extra": {"max_bytes": self.limit}},
                status=413,
            )
        return self.get_response(request)


class RequestLogContextMiddleware:
    """Bind a request id and, for an order's URLs, its correlation id; log one line per request."""

    correlation_kwargs: Iterable[str] = ("order_id",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        log_context_clear()
        request_id = request_id_of(request.headers.get("X-Request-ID"))
        log_context_bind(
            request_id=request_id,
            correlation_id=request.headers.get("X-Correlation-ID", "")[:100],
        )
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        if not request.path.startswith(QUIET_PATHS):
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "http_status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        log_context_clear()
        return response

    def process_view(
        self, request: HttpRequest, view: object, args: object, kwargs: dict[str, Any]
    ) -> None:
        for name in self.correlation_kwargs:
            if kwargs.get(name):
                log_context_bind(correlation_id=kwargs[name])


class TraceContextMiddleware:
    """Continue (or start) a trace for each request, from its `traceparent` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not tracing_enabled():
            return self.get_response(request)
        carrier = {k.lower(): v for k, v in request.headers.items()}
        with span_from(
            carrier,
            f"HTTP {request.method}",
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method or "", "url.path": request.path},
        ):
            response = self.get_response(request)
            response[TRACEPARENT] = current_traceparent()
        return response
