"""Writing events to the outbox, inside the caller's transaction."""

import uuid
from collections.abc import Sequence

from django.db import connection

from shared_events.contracts import Contract
from shared_events.django.conf import events_config
from shared_events.django.models import OutboxMessage
from shared_events.observability.logging import log_context_bind
from shared_events.observability.tracing import current_traceparent
from shared_events.registry import envelope_for


def outbox_publish(
    *events: Contract,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
) -> list[OutboxMessage]:
    """Record events to publish once the surrounding transaction commits."""
    return outbox_publish_all([(event, correlation_id, causation_id) for event in events])


# One event to publish, with the saga it belongs to and the event that caused it.
OutboxEntry = tuple[Contract, str | None, uuid.UUID | None]


def outbox_publish_all(entries: Sequence[OutboxEntry]) -> list[OutboxMessage]:
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
    rows = []
    for event, correlation_id, causation_id in entries:
        envelope = envelope_for(
            event,
            producer=config.service_name,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        rows.append(
            OutboxMessage(
                event_id=envelope.event_id,
                event_type=envelope.event_type,
                event_version=envelope.event_version,
                topic=config.publish_topic,
                message_key=event.partition_key(),
                correlation_id=correlation_id or "",
                body=envelope.model_dump_json(),
                traceparent=traceparent,
            )
        )
    sagas = {correlation_id for _, correlation_id, _ in entries}
    if len(sagas) == 1:
        # Log lines after this one (in this request or consumed event) are about this saga.
        log_context_bind(correlation_id=sagas.pop())
    _outbox_insert(rows)
    return rows


def _outbox_insert(rows: list[OutboxMessage]) -> None:
    """INSERT the rows in one statement, in order, and give each its id.

    `created_at` is the moment of the insert (as Django would stamp it), not the start of
    the transaction: the saga's timeline and the bench's per-hop latencies read it.

    Every write path ends here, so it skips bulk_create's per-value preparation, which
    took as long as PostgreSQL's insert itself (bench-reports/history.md).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {OutboxMessage._meta.db_table}
                   (event_id, event_type, event_version, topic, message_key, correlation_id,
                    body, traceparent, created_at, attempts, last_error)
            SELECT *, clock_timestamp(), 0, ''
              FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[], %s::text[],
                          %s::text[], %s::text[], %s::text[])
            RETURNING id, created_at
            """,
            [
                [str(r.event_id) for r in rows],
                [r.event_type for r in rows],
                [r.event_version for r in rows],
                [r.topic for r in rows],
                [r.message_key for r in rows],
                [r.correlation_id for r in rows],
                [r.body for r in rows],
                [r.traceparent for r in rows],
            ],
        )
        # RETURNING follows the order of unnest's rows (bulk_create relies on it too).
        for row, (row_id, created_at) in zip(rows, cursor.fetchall(), strict=True):
            row.id, row.created_at = row_id, created_at
            row._state.adding = False
