"""Applying consumed events exactly once: the event id is recorded with the effect."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from shared_events.django.models import ProcessedEvent
from shared_events.errors import TransientEventError
from shared_events.registry import Event

logger = logging.getLogger(__name__)

Handler = Callable[[Event[Any]], None]

# PostgreSQL errors that succeed on retry: serialization failure, deadlock, lock timeout,
# and the admin/crash shutdowns of a restarting server.
_TRANSIENT_PGCODES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def event_apply(event: Event[Any], handler: Handler) -> bool:
    """Run `handler` and record the event in one transaction; False for a duplicate."""
    try:
        with transaction.atomic():
            if not _processed_event_record(event):
                logger.info(
                    "duplicate %s %s ignored",
                    event.event_type,
                    event.event_id,
                    extra=_log_context(event),
                )
                return False
            handler(event)
        return True
    except (OperationalError, InterfaceError) as exc:
        # The connection may be broken; drop it so the retry opens a fresh one.
        connection.close()
        raise TransientEventError(str(exc)) from exc
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) in _TRANSIENT_PGCODES:
            raise TransientEventError(str(exc)) from exc
        raise


def _processed_event_record(event: Event[Any]) -> bool:
    # INSERT … ON CONFLICT tells in one round trip whether the id is new; a concurrent
    # duplicate blocks here until the first transaction ends, then sees the conflict.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ProcessedEvent._meta.db_table}
                   (event_id, event_type, correlation_id, processed_at,
                    causation_id, occurred_at, producer)
            VALUES (%s, %s, %s, now(), %s, %s, %s)
            ON CONFLICT (event_id) DO NOTHING
            """,
            [
                event.event_id,
                event.event_type,
                event.correlation_id or "",
                event.causation_id,
                event.occurred_at,
                event.producer,
            ],
        )
        return cursor.rowcount == 1


def _log_context(event: Event[Any]) -> dict[str, str]:
    return {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "correlation_id": event.correlation_id or "",
    }
