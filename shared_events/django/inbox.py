"""Applying consumed events exactly once: each event id is recorded with its effect."""

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from shared_events.django.models import ProcessedEvent
from shared_events.errors import TransientEventError
from shared_events.registry import Event

logger = logging.getLogger(__name__)

# A handler takes a run of consecutive events of its type, in the order they were consumed,
# and applies them inside the caller's transaction.
Handler = Callable[[Sequence[Event[Any]]], None]
Outcome = Literal["applied", "duplicate", "skipped"]

# PostgreSQL errors that succeed on retry: serialization failure, deadlock, lock timeout,
# and the admin/crash shutdowns of a restarting server.
_TRANSIENT_PGCODES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def events_apply(events: Sequence[Event[Any]], handlers: Mapping[type, Handler]) -> list[Outcome]:
    """Apply events in order, all in one transaction, each at most once; say what each did.

    An event with no handler here is skipped (not recorded); one whose id was recorded
    before, or earlier in the same batch, is a duplicate. If anything fails, nothing of the
    batch is applied or recorded.
    """
    outcomes: list[Outcome] = ["skipped"] * len(events)
    try:
        with transaction.atomic():
            handled = [i for i, event in enumerate(events) if type(event.payload) in handlers]
            new_ids = _processed_events_record([events[i] for i in handled])
            runs: list[tuple[Handler, list[Event[Any]]]] = []
            for i in handled:
                event = events[i]
                if event.event_id not in new_ids:
                    outcomes[i] = "duplicate"
                    continue
                new_ids.discard(event.event_id)  # a second copy in this batch is a duplicate
                outcomes[i] = "applied"
                handler = handlers[type(event.payload)]
                if runs and runs[-1][0] is handler:
                    runs[-1][1].append(event)
                else:
                    runs.append((handler, [event]))
            for handler, run in runs:
                handler(run)
    except (OperationalError, InterfaceError) as exc:
        # The connection may be broken; drop it so the retry opens a fresh one.
        connection.close()
        raise TransientEventError(str(exc)) from exc
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) in _TRANSIENT_PGCODES:
            raise TransientEventError(str(exc)) from exc
        raise
    return outcomes


def event_apply(event: Event[Any], handler: Handler) -> bool:
    """Run `handler` and record the event in one transaction; False for a duplicate."""
    [outcome] = events_apply([event], {type(event.payload): handler})
    return outcome == "applied"


def _processed_events_record(events: Sequence[Event[Any]]) -> set[Any]:
    """Record the events' ids; return those that were not recorded before."""
    if not events:
        return set()
    # One INSERT … ON CONFLICT for the batch tells which ids are new; a concurrent
    # duplicate blocks here until the first transaction ends, then sees the conflict.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ProcessedEvent._meta.db_table}
                   (event_id, event_type, correlation_id, processed_at,
                    causation_id, occurred_at, producer)
            SELECT event_id, event_type, correlation_id, now(), causation_id, occurred_at, producer
              FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::uuid[], %s::timestamptz[],
                          %s::text[])
                   AS e(event_id, event_type, correlation_id, causation_id, occurred_at, producer)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """,
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
