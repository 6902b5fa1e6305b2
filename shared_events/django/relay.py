"""Relaying outbox rows to Kafka.

One relay at a time per service (a PostgreSQL advisory lock) sends unpublished rows
in id order, so one aggregate's events keep their order whoever runs the relay: the
following relay woken by each commit, the beat sweep, or two of either at once. A row is
marked published only after Kafka acknowledged it; a crash before that republishes it,
and consumers dedupe by event id.
"""

import dataclasses
import functools
import logging
import select
import threading
import time
import zlib
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from shared_events.django import sql
from shared_events.django.conf import events_config
from shared_events.django.models import DeadLetter, OutboxMessage, ProcessedEvent
from shared_events.headers import relay_headers
from shared_events.kafka.producer import DeliveryReport, EventProducer, OutgoingMessage
from shared_events.observability.metrics import events_published_record

logger = logging.getLogger(__name__)

RELAY_LOCK_KEY = zlib.crc32(b"shared_events.outbox_relay")
# What PostgreSQL raises when lock_timeout expires: another relay holds the lock.
LOCK_NOT_AVAILABLE = "55P03"


# A broker (or database) that is unreachable is asked again soon: the oldest row holds back
# the whole outbox, so a long wait would outlast the outage itself. A broker that refuses a
# row outright is asked far less often, until the row is parked.
UNREACHABLE_MAX_BACKOFF_SECONDS = 5
MAX_BACKOFF_SECONDS = 60


@dataclasses.dataclass
class RelayResult:
    published: int = 0
    failed: int = 0
    busy: bool = False
    backing_off: bool = False


@functools.cache
def relay_producer() -> EventProducer:
    """One producer per process, created on first use (after a worker forks)."""
    return EventProducer(events_config().kafka)


def relay_outbox_batch(
    *, producer: EventProducer, batch_size: int, lock_timeout_ms: int
) -> RelayResult:
    """Publish the oldest unpublished rows, up to `batch_size`, under the relay lock."""
    config = events_config()
    with transaction.atomic():
        try:
            rows = sql.relay_lock_and_read(
                lock_key=RELAY_LOCK_KEY, lock_timeout_ms=lock_timeout_ms, limit=batch_size
            )
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            transaction.set_rollback(True)
            return RelayResult(busy=True)
        if not rows:
            return RelayResult()
        retry_at = rows[0].next_attempt_at
        if retry_at is not None and retry_at > timezone.now():
            # The oldest row is backing off; sending newer ones first would reorder them.
            return RelayResult(backing_off=True)
        reports = producer.publish_batch([_outgoing_message(row) for row in rows])
        sent = list(zip(rows, reports, strict=True))
        events_published_record(
            [row.event_type for row, report in sent if report.delivered],
            failed=[row.event_type for row, report in sent if not report.delivered],
        )
        delivered = [row.id for row, report in sent if report.delivered]
        failed = [(row.id, report) for row, report in sent if not report.delivered]
        if delivered:
            sql.outbox_mark_published(delivered, at=timezone.now())
        if failed:
            _record_failures(failed, max_attempts=config.outbox_max_attempts)
        return RelayResult(published=len(delivered), failed=len(failed))


def _outgoing_message(row: sql.RelayRow) -> OutgoingMessage:
    """The Kafka message for one outbox row."""
    return OutgoingMessage(
        topic=row.topic,
        key=row.message_key.encode(),
        value=row.body.encode(),
        headers=relay_headers(
            event_type=row.event_type,
            event_version=row.event_version,
            correlation_id=row.correlation_id,
            event_id=row.event_id,
            traceparent=row.traceparent,
            request_id=row.request_id,
        ),
    )


def _record_failures(failed: list[tuple[int, DeliveryReport]], *, max_attempts: int) -> None:
    """Count the attempt, keep the error, back off; park rows Kafka refuses outright."""
    logger.warning("kafka did not take %d outbox row(s): %s", len(failed), failed[0][1].error)
    for permanent in (False, True):
        ids = [row_id for row_id, report in failed if report.permanent is permanent]
        if not ids:
            continue
        sql.outbox_attempt_failed(
            ids,
            error=next(r.error for _, r in failed if r.permanent is permanent),
            max_backoff_seconds=(
                MAX_BACKOFF_SECONDS if permanent else UNREACHABLE_MAX_BACKOFF_SECONDS
            ),
            # An unreachable broker never parks a row: it drains by itself once Kafka is back.
            park_after_attempts=max_attempts if permanent else None,
        )


def relay_outbox(
    *,
    max_batches: int = 100,
    lock_timeout_ms: int = 5_000,
    producer: EventProducer | None = None,
) -> RelayResult:
    """Drain the outbox batch by batch; stop at the first failure (the next run retries)."""
    config = events_config()
    total = RelayResult()
    for _ in range(max_batches):
        result = relay_outbox_batch(
            producer=producer or relay_producer(),
            batch_size=config.outbox_batch_size,
            lock_timeout_ms=lock_timeout_ms,
        )
        total.published += result.published
        total.failed += result.failed
        total.busy, total.backing_off = result.busy, result.backing_off
        if result.published < config.outbox_batch_size or result.failed:
            break
    # Per run, for debugging: saga_events_published_total counts them, and the following
    # relay runs up to hundreds of times a second.
    if total.published or total.failed:
        logger.debug("relayed %d event(s), %d failed", total.published, total.failed)
    return total


# The channel the outbox table's insert trigger notifies (migration 0004): PostgreSQL
# delivers it when the inserting transaction commits, and never for a rollback.
OUTBOX_CHANNEL = "shared_events_outbox"
# Without a notification the following relay still looks every so often: rows backing off
# come due, and a notification can be missed while the database connection is re-made.
FOLLOW_IDLE_SECONDS = 1.0


def relay_follow(*, stop: threading.Event, idle_seconds: float = FOLLOW_IDLE_SECONDS) -> None:
    """Relay each time a transaction commits outbox rows, until `stop` is set."""
    producer = EventProducer(events_config().kafka)
    failures = 0
    try:
        while not stop.is_set():
            try:
                pg = _listen()
                failures = 0
                _follow(pg, idle_seconds=idle_seconds, stop=stop, producer=producer)
            except (OperationalError, InterfaceError) as exc:  # the database is restarting
                failures += 1
                delay = min(0.5 * 2**failures, UNREACHABLE_MAX_BACKOFF_SECONDS)
                logger.warning("relay lost the database (%s); again in %.1fs", exc, delay)
                connection.close()
                stop.wait(delay)
    finally:
        connection.close()
        producer.close()


def _listen() -> Any:
    """Connect and LISTEN; return the psycopg2 connection that will be notified."""
    connection.ensure_connection()
    sql.outbox_listen(OUTBOX_CHANNEL)
    logger.info("relay following the outbox (LISTEN %s)", OUTBOX_CHANNEL)
    return connection.connection


def _follow(
    pg: Any, *, idle_seconds: float, stop: threading.Event, producer: EventProducer
) -> None:
    while not stop.is_set():
        # Forget what was signalled so far: the run below sees every row committed before it.
        pg.notifies.clear()
        relay_outbox(producer=producer, max_batches=10_000)
        if not pg.notifies:
            _notify_wait(pg, idle_seconds=idle_seconds, stop=stop)


def _notify_wait(pg: Any, *, idle_seconds: float, stop: threading.Event) -> None:
    """Wait for a notification on `pg`, at most `idle_seconds`, looking at `stop` meanwhile."""
    deadline = time.monotonic() + idle_seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        if select.select([pg], [], [], min(left, 0.2))[0]:
            pg.poll()
            if pg.notifies:
                return


def outbox_redrive(*, ids: list[int] | None = None) -> int:
    """Give failed rows a fresh start; return how many were reset."""
    rows = OutboxMessage.objects.filter(published_at__isnull=True, failed_at__isnull=False)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    return rows.update(failed_at=None, attempts=0, next_attempt_at=None)


def events_purge(*, older_than: timedelta) -> tuple[int, int, int]:
    """Delete published outbox rows, processed-event ids and dead letters older than
    `older_than`; return how many of each."""
    cutoff = timezone.now() - older_than
    outbox, _ = OutboxMessage.objects.filter(published_at__lt=cutoff).delete()
    inbox, _ = ProcessedEvent.objects.filter(processed_at__lt=cutoff).delete()
    dead_letters, _ = DeadLetter.objects.filter(received_at__lt=cutoff).delete()
    return outbox, inbox, dead_letters
