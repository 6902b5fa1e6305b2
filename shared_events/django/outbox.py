"""Appending events to the outbox, inside the caller's transaction."""

import contextlib
import contextvars
import uuid
from collections.abc import Iterator, Mapping, Sequence

from django.db import connection

from shared_events.contracts import Contract
from shared_events.django.conf import events_config
from shared_events.django.sql import AppendedOutboxRow, NewOutboxRow, outbox_insert
from shared_events.observability.logging import log_context_bind, log_context_value
from shared_events.observability.tracing import current_traceparent
from shared_events.registry import envelope_for


def outbox_append(
    *events: Contract,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
) -> list[AppendedOutboxRow]:
    """Record events for the relay to publish once the surrounding transaction commits."""
    return outbox_append_entries([(event, correlation_id, causation_id) for event in events])


# One event to append, with the saga it belongs to and the event that caused it.
OutboxEntry = tuple[Contract, str | None, uuid.UUID | None]

# While a consumer applies events: the request id each one arrived with, by event id.
_cause_request_ids: contextvars.ContextVar[Mapping[uuid.UUID, str] | None] = contextvars.ContextVar(
    "cause_request_ids", default=None
)


@contextlib.contextmanager
def causes_request_ids(request_ids: Mapping[uuid.UUID, str]) -> Iterator[None]:
    """Events appended inside carry the request id of the consumed event that caused them,
    so every event of a saga a request started names that request (a batch mixes sagas,
    so the log context cannot say which)."""
    token = _cause_request_ids.set(request_ids)
    try:
        yield
    finally:
        _cause_request_ids.reset(token)


def outbox_append_entries(entries: Sequence[OutboxEntry]) -> list[AppendedOutboxRow]:
    """Record events of several sagas in one statement, in the order given.

    The insert wakes the relay when the transaction commits (a NOTIFY from the outbox
    table's trigger), so nothing here talks to Kafka or Celery.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("the outbox is written inside the transaction of the domain change")
    if not entries:
        return []
    config = events_config()
    traceparent = current_traceparent()
    # A request's events carry the id its middleware bound (tasks have none); a consumer's,
    # the id the event that caused each one arrived with.
    causes = _cause_request_ids.get()
    request_id = log_context_value("request_id") if causes is None else ""
    rows = []
    for event, correlation_id, causation_id in entries:
        envelope = envelope_for(
            event,
            producer=config.service_name,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        rows.append(
            NewOutboxRow(
                event_id=envelope.event_id,
                event_type=envelope.event_type,
                event_version=envelope.event_version,
                topic=config.publish_topic,
                message_key=event.partition_key(),
                correlation_id=correlation_id or "",
                body=envelope.model_dump_json(),
                traceparent=traceparent,
                request_id=causes.get(causation_id, "") if causes and causation_id else request_id,
            )
        )
    sagas = {correlation_id for _, correlation_id, _ in entries}
    if len(sagas) == 1:
        # Log lines after this one (in this request or consumed event) are about this saga.
        log_context_bind(correlation_id=sagas.pop())
    return outbox_insert(rows)
