"""The outbox's and the inbox's hand-written SQL.

These statements run for every event: written as plain SQL, each is one round trip that
PostgreSQL does all the work of, where the ORM spent longer building the statement (or
preparing each value) than the database spent running it. Rows travel as named tuples.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from shared_events.django.models import OutboxMessage, ProcessedEvent
from shared_events.registry import Event

OUTBOX_TABLE = OutboxMessage._meta.db_table
PROCESSED_EVENT_TABLE = ProcessedEvent._meta.db_table


class NewOutboxRow(NamedTuple):
    """An outbox row to insert."""

    event_id: uuid.UUID
    event_type: str
    event_version: int
    topic: str
    message_key: str
    correlation_id: str
    body: str
    traceparent: str
    request_id: str


class AppendedOutboxRow(NamedTuple):
    """An outbox row as inserted: its id gives the order the relay sends it in."""

    id: int
    event_id: uuid.UUID
    created_at: datetime


def outbox_insert(rows: Sequence[NewOutboxRow]) -> list[AppendedOutboxRow]:
    """INSERT the rows in one statement, in order.

    `created_at` is the moment of the insert (as Django would stamp it), not the start of
    the transaction: the saga's timeline and the bench's per-hop latencies read it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {OUTBOX_TABLE}
                   (event_id, event_type, event_version, topic, message_key, correlation_id,
                    body, traceparent, request_id, created_at, attempts, last_error)
            SELECT *, clock_timestamp(), 0, ''
              FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[], %s::text[],
                          %s::text[], %s::text[], %s::text[], %s::text[])
            RETURNING id, created_at
            """,  # noqa: S608 - only table and column-list constants are interpolated; values are parameters
            [
                [str(r.event_id) for r in rows],
                [r.event_type for r in rows],
                [r.event_version for r in rows],
                [r.topic for r in rows],
                [r.message_key for r in rows],
                [r.correlation_id for r in rows],
                [r.body for r in rows],
                [r.traceparent for r in rows],
                [r.request_id for r in rows],
            ],
        )
        # RETURNING follows the order of unnest's rows (bulk_create relies on it too).
        return [
            AppendedOutboxRow(id=row_id, event_id=row.event_id, created_at=created_at)
            for row, (row_id, created_at) in zip(rows, cursor.fetchall(), strict=True)
        ]


class RelayRow(NamedTuple):
    """What the relay reads of an unpublished row: the message and its headers."""

    id: int
    topic: str
    message_key: str
    body: str
    event_type: str
    event_version: int
    correlation_id: str
    event_id: uuid.UUID
    traceparent: str
    request_id: str
    next_attempt_at: datetime | None


_RELAY_COLUMNS = ", ".join(RelayRow._fields)


def relay_lock_and_read(*, lock_key: int, lock_timeout_ms: int, limit: int) -> list[RelayRow]:
    """Take the relay's transaction-scoped advisory lock, then read the oldest unpublished rows.

    One round trip: wait at most `lock_timeout_ms` for the lock (PostgreSQL raises
    lock_not_available when it expires), then read up to `limit` rows in id order.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL lock_timeout = %s; SELECT pg_advisory_xact_lock(%s);"  # noqa: S608 - only table and column-list constants are interpolated; values are parameters
            f" SET LOCAL lock_timeout = 0; SELECT {_RELAY_COLUMNS} FROM {OUTBOX_TABLE}"
            " WHERE published_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT %s",
            [f"{lock_timeout_ms}ms", lock_key, limit],
        )
        return [RelayRow(*row) for row in cursor.fetchall()]


def outbox_mark_published(ids: Sequence[int], *, at: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OUTBOX_TABLE} SET published_at = %s, next_attempt_at = NULL"  # noqa: S608 - only table and column-list constants are interpolated; values are parameters
            " WHERE id = ANY(%s)",
            [at, list(ids)],
        )


def outbox_attempt_failed(
    ids: Sequence[int],
    *,
    error: str,
    max_backoff_seconds: int,
    park_after_attempts: int | None,
) -> None:
    """Count a failed attempt, keep its error and back off exponentially; with
    `park_after_attempts`, park the rows that reach it as failed.

    The wait starts now (clock_timestamp), not when the relay's transaction began: sending
    may have taken as long as the producer's message timeout."""
    parks = park_after_attempts is not None
    park = "CASE WHEN attempts + 1 >= %s THEN now() END" if parks else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {OUTBOX_TABLE}
               SET attempts = attempts + 1,
                   last_error = %s,
                   next_attempt_at = clock_timestamp()
                       + LEAST(power(2, attempts), %s) * interval '1 second',
                   failed_at = {park}
             WHERE id = ANY(%s)
            """,  # noqa: S608 - only table and column-list constants are interpolated; values are parameters
            [
                error,
                max_backoff_seconds,
                *([park_after_attempts] if parks else []),
                list(ids),
            ],
        )


def outbox_listen(channel: str) -> None:
    """Subscribe this connection to the notifications of the outbox's insert trigger."""
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {channel}")


def processed_events_insert(events: Sequence[Event[Any]]) -> set[uuid.UUID]:
    """Record the events' ids; return those that were not recorded before.

    One INSERT … ON CONFLICT for the batch tells which ids are new; a concurrent duplicate
    blocks here until the first transaction ends, then sees the conflict.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {PROCESSED_EVENT_TABLE}
                   (event_id, event_type, correlation_id, processed_at,
                    causation_id, occurred_at, producer)
            SELECT event_id, event_type, correlation_id, now(), causation_id, occurred_at, producer
              FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::uuid[], %s::timestamptz[],
                          %s::text[])
                   AS e(event_id, event_type, correlation_id, causation_id, occurred_at, producer)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """,  # noqa: S608 - only table and column-list constants are interpolated; values are parameters
            [
                [str(e.event_id) for e in events],
                [e.event_type for e in events],
                [e.correlation_id or "" for e in events],
                [str(e.causation_id) if e.causation_id else None for e in events],
                [e.occurred_at for e in events],
                [e.producer for e in events],
            ],
        )
        return {row[0] for row in cursor.fetchall()}
