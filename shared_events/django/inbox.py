"""Applying consumed events exactly once: each event id is recorded with its effect.

A service declares what it does with each event type in an `EventHandlers`, and how a
polled batch is cut into runs:

- each event goes to the handler of its type; a handler declared `batched` receives the
  consecutive events of its type in one call (one statement for many events), any other
  handler one event per call;
- an event its handler's `acts_on` turns down needs nothing from this service: it is
  recorded (so a redelivery stays a duplicate) and does not cut the run around it;
- `before_batch`, if declared, runs first, once per batch, with the events the handlers
  will get, by type: it takes the locks the batch needs in a fixed order, so that two
  batches touching the same rows wait for each other instead of deadlocking.
"""

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from shared_events.contracts import Contract
from shared_events.django.sql import processed_events_insert
from shared_events.errors import TransientEventError
from shared_events.registry import Event

logger = logging.getLogger(__name__)

Outcome = Literal["applied", "duplicate", "skipped"]
EventsApply = Callable[[Sequence[Event[Any]]], None]
EventsByType = Mapping[type[Contract], Sequence[Event[Any]]]


def _every_event(_payload: Any) -> bool:
    return True


@dataclasses.dataclass(frozen=True)
class Handler:
    """Applies events of one type, in the order consumed, inside the inbox's transaction."""

    apply: EventsApply
    # True: consecutive events of this type come in one call; False: one event per call.
    batched: bool
    # The payloads this service has work for; the others are recorded and nothing more.
    acts_on: Callable[[Any], bool] = _every_event


@dataclasses.dataclass(frozen=True)
class EventHandlers:
    """Every event type a service consumes, the handler of each, and what a batch does first."""

    by_type: Mapping[type[Contract], Handler]
    before_batch: Callable[[EventsByType], None] | None = None

    def handles(self, event: Event[Any]) -> bool:
        return type(event.payload) in self.by_type


# PostgreSQL errors that succeed on retry: serialization failure, deadlock, lock timeout,
# and the admin/crash shutdowns of a restarting server.
_TRANSIENT_PGCODES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def database_error_is_transient(exc: DatabaseError) -> bool:
    """Whether trying again later may succeed (the database, not the data, was the problem)."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        getattr(exc.__cause__, "pgcode", None) in _TRANSIENT_PGCODES
    )


def events_apply(events: Sequence[Event[Any]], handlers: EventHandlers) -> list[Outcome]:
    """Apply events in order, all in one transaction, each at most once; say what each did.

    An event with no handler here is skipped (not recorded); one whose id was recorded
    before, or earlier in the same batch, is a duplicate. If anything fails, nothing of the
    batch is applied or recorded.
    """
    outcomes: list[Outcome] = ["skipped"] * len(events)
    try:
        with transaction.atomic():
            handled = [i for i, event in enumerate(events) if handlers.handles(event)]
            new_ids = _processed_events_record([events[i] for i in handled])
            applied: list[Event[Any]] = []
            for i in handled:
                event = events[i]
                if event.event_id not in new_ids:
                    outcomes[i] = "duplicate"
                    continue
                new_ids.discard(event.event_id)  # a second copy in this batch is a duplicate
                outcomes[i] = "applied"
                applied.append(event)
            runs = _runs(applied, handlers)
            if runs and handlers.before_batch is not None:
                by_type: dict[type[Contract], list[Event[Any]]] = {}
                for contract, _, run in runs:
                    by_type.setdefault(contract, []).extend(run)
                handlers.before_batch(by_type)
            for _, handler, run in runs:
                handler.apply(run)
    except (OperationalError, InterfaceError) as exc:
        # The connection may be broken; drop it so the retry opens a fresh one.
        connection.close()
        raise TransientEventError(str(exc)) from exc
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) in _TRANSIENT_PGCODES:
            raise TransientEventError(str(exc)) from exc
        raise
    return outcomes


Run = tuple[type[Contract], Handler, list[Event[Any]]]


def _runs(events: Sequence[Event[Any]], handlers: EventHandlers) -> list[Run]:
    """Cut the events into runs, in order, by the rules in the module docstring."""
    runs: list[Run] = []
    for event in events:
        contract = type(event.payload)
        handler = handlers.by_type[contract]
        if not handler.acts_on(event.payload):
            continue
        if runs and handler.batched and runs[-1][0] is contract:
            runs[-1][2].append(event)
        else:
            runs.append((contract, handler, [event]))
    return runs


def event_apply(event: Event[Any], handlers: EventHandlers) -> bool:
    """Apply one event and record it in one transaction; False for a duplicate."""
    [outcome] = events_apply([event], handlers)
    return outcome == "applied"


def _processed_events_record(events: Sequence[Event[Any]]) -> set[Any]:
    """Record the events' ids; return those that were not recorded before."""
    if not events:
        return set()
    return processed_events_insert(events)
