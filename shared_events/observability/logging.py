"""Structured logs: JSON in production, readable text in development, event context on each line.

Every record goes through structlog's `ProcessorFormatter`, so plain `logging` calls get the
same treatment: the context bound here (correlation id, event id and type, request id) and
any `extra=` fields are added to the line.
"""

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from confluent_kafka import Message
from django.http import HttpRequest, HttpResponse

EVENT_HEADERS = ("correlation_id", "event_id", "event_type")
QUIET_PATHS = ("/health/", "/metrics", "/static/")

request_logger = logging.getLogger("shared_events.request")


def log_processors() -> list[Any]:
    """What every record gets before it is rendered."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def log_formatter(fmt: str) -> dict[str, Any]:
    """A `logging.config` formatter: `json` (one object per line) or `text`."""
    if fmt == "json":
        render: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    else:
        render = [structlog.dev.ConsoleRenderer(colors=False)]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": log_processors(),
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
    }


def log_context_bind(**values: object) -> None:
    """Add fields to every log line of this thread (or task) until cleared."""
    structlog.contextvars.bind_contextvars(
        **{key: str(value) for key, value in values.items() if value not in (None, "")}
    )


def log_context_clear() -> None:
    structlog.contextvars.clear_contextvars()


def message_log_context(message: Message) -> None:
    """Start a message's log context from its Kafka headers and position."""
    log_context_clear()
    headers = dict(message.headers() or [])
    log_context_bind(
        kafka_topic=message.topic(),
        kafka_partition=message.partition(),
        kafka_offset=message.offset(),
        **{name: _decode(headers.get(name)) for name in EVENT_HEADERS},
    )


def _decode(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


class RequestLogContextMiddleware:
    """Bind a request id and, for an order's URLs, its correlation id; log one line per request."""

    correlation_kwargs: Iterable[str] = ("order_id",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        log_context_clear()
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        log_context_bind(
            request_id=request_id[:100],
            correlation_id=request.headers.get("X-Correlation-ID", "")[:100],
        )
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id[:100]
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
