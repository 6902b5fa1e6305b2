"""Every Kafka header the saga puts on the wire, and the headers of an outbox row's message.

The relay adds the event headers so that consumers route, label metrics and bind log
context without parsing the body; the consumer loop adds the `dlq.*` headers when it gives
up on a message; a replay adds `dlq.replay.of`.
"""

import uuid

from confluent_kafka import Message

# The event's own headers, copied from its envelope by the relay.
EVENT_TYPE = "event_type"
EVENT_VERSION = "event_version"
CORRELATION_ID = "correlation_id"
EVENT_ID = "event_id"
# W3C trace context of the transaction that wrote the event (only when tracing is on).
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# X-Request-ID of the HTTP request that wrote the event (only on events a request caused).
REQUEST_ID = "request_id"
# A request id the services and the storefront keep (the gateway's configuration checks the
# same pattern): short enough for a log line and an outbox column, nothing a log reader
# would misread.
REQUEST_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"

# Why and where a consumer gave up on a message, on its copy in `<topic>.dlq`.
DEAD_LETTER_PREFIX = "dlq."
DLQ_ERROR_CLASS = "dlq.error.class"
DLQ_ERROR_MESSAGE = "dlq.error.message"
DLQ_CONSUMER_GROUP = "dlq.consumer.group"
DLQ_ORIGINAL_TOPIC = "dlq.original.topic"
DLQ_ORIGINAL_PARTITION = "dlq.original.partition"
DLQ_ORIGINAL_OFFSET = "dlq.original.offset"
DLQ_ATTEMPTS = "dlq.attempts"
DLQ_FAILED_AT = "dlq.failed_at"
# On a replayed dead letter: the dead-letter position it was replayed from.
DLQ_REPLAY_OF = "dlq.replay.of"

# The log context a consumed message starts with: a consumer's lines name the request that
# started the saga too (its outbox rows take the id from `causes_request_ids`).
LOG_CONTEXT_HEADERS = (CORRELATION_ID, EVENT_ID, EVENT_TYPE, REQUEST_ID)
TRACE_CONTEXT_HEADERS = (TRACEPARENT, TRACESTATE)

# As the Kafka client gives and takes them (a header's value may be missing).
Header = tuple[str, str | bytes | None]
Headers = list[Header]


def relay_headers(
    *,
    event_type: str,
    event_version: int,
    correlation_id: str,
    event_id: uuid.UUID | str,
    traceparent: str = "",
    request_id: str = "",
) -> Headers:
    """The headers the relay sends with an outbox row."""
    headers: Headers = [
        (EVENT_TYPE, event_type.encode()),
        (EVENT_VERSION, str(event_version).encode()),
        (CORRELATION_ID, correlation_id.encode()),
        (EVENT_ID, str(event_id).encode()),
    ]
    if traceparent:
        headers.append((TRACEPARENT, traceparent.encode()))
    if request_id:
        headers.append((REQUEST_ID, request_id.encode()))
    return headers


def message_headers(message: Message) -> Headers:
    """A consumed message's headers, in order (the client may also give them as a dict)."""
    raw = message.headers()
    if isinstance(raw, dict):
        return list(raw.items())
    return raw or []


def header_value(headers: Headers, name: str) -> str | bytes | None:
    """The first value of header `name`, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None
