"""W3C trace context (`traceparent`) carried from HTTP through the outbox, Kafka and consumers.

Off unless `TRACING_ENABLED`. When on, an OpenTelemetry SDK tracer provider makes a span
for each request and each consumed event; the outbox stores the current `traceparent`, the
relay sends it as a Kafka header, and the consumer continues the trace from it, so one
trace covers the whole saga. `OTEL_TRACES_EXPORTER=console` prints finished spans; plug
another exporter in `tracing_setup` to ship them.
"""

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind

from shared_events.headers import TRACE_CONTEXT_HEADERS, TRACEPARENT, Headers

logger = logging.getLogger(__name__)


def tracing_enabled() -> bool:
    return bool(getattr(settings, "TRACING_ENABLED", False))


@functools.cache
def tracing_setup(service_name: str) -> None:
    """Install the SDK tracer provider once per process (when tracing is on)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_TRACES_EXPORTER", "") == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def _tracer() -> trace.Tracer:
    tracing_setup(settings.SHARED_EVENTS["SERVICE_NAME"])
    return trace.get_tracer("shared_events")


def current_traceparent() -> str:
    """The active span's `traceparent`, or "" when tracing is off or nothing is traced."""
    if not tracing_enabled():
        return ""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT, "")


@contextlib.contextmanager
def span_from(
    carrier: dict[str, str], name: str, *, kind: SpanKind, attributes: dict[str, Any]
) -> Iterator[None]:
    """Run the block in a span continuing the trace in `carrier` (no-op when tracing is off)."""
    if not tracing_enabled():
        yield
        return
    token = context.attach(propagate.extract(carrier))
    try:
        with _tracer().start_as_current_span(name, kind=kind, attributes=attributes):
            yield
    finally:
        context.detach(token)


def message_trace_carrier(headers: Headers) -> dict[str, str]:
    return {
        key: value.decode(errors="replace")
        for key, value in headers
        if key in TRACE_CONTEXT_HEADERS and isinstance(value, bytes)
    }
