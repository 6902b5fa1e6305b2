"""Log context: the fields every log line of the current message, event or request carries.

The formatter (`service_platform.settings.logging`) adds what is bound here (correlation id,
event id and type, request id, Kafka position) to each line.
"""

import structlog
from confluent_kafka import Message

from shared_events.headers import LOG_CONTEXT_HEADERS, message_headers


def log_context_bind(**values: object) -> None:
    """Add fields to every log line of this thread (or task) until cleared."""
    structlog.contextvars.bind_contextvars(
        **{key: str(value) for key, value in values.items() if value not in (None, "")}
    )


def log_context_value(name: str) -> str:
    """A field bound to this thread's (or task's) log context, or ""."""
    return str(structlog.contextvars.get_contextvars().get(name, ""))


def log_context_clear() -> None:
    structlog.contextvars.clear_contextvars()


def message_log_context(message: Message) -> None:
    """Start a message's log context from its Kafka headers and position."""
    log_context_clear()
    headers = dict(message_headers(message))
    log_context_bind(
        kafka_topic=message.topic(),
        kafka_partition=message.partition(),
        kafka_offset=message.offset(),
        **{name: _decode(headers.get(name)) for name in LOG_CONTEXT_HEADERS},
    )


def _decode(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw
