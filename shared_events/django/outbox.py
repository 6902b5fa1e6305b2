"""Writing events to the outbox, inside the caller's transaction."""

import functools
import logging
import uuid

import redis
from django.conf import settings
from django.db import connection, transaction

from shared_events.contracts import Contract
from shared_events.django.conf import events_config
from shared_events.django.models import OutboxMessage
from shared_events.observability.logging import log_context_bind
from shared_events.observability.tracing import current_traceparent
from shared_events.registry import envelope_for

logger = logging.getLogger(__name__)


def outbox_publish(
    *events: Contract,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | None = None,
) -> list[OutboxMessage]:
    """Record events to publish once the surrounding transaction commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_publish must run inside the transaction of the domain change")
    config = events_config()
    # Log lines after this one (in this request or consumed event) are about this saga.
    log_context_bind(correlation_id=correlation_id)
    traceparent = current_traceparent()
    rows = []
    for event in events:
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
    created = OutboxMessage.objects.bulk_create(rows)
    transaction.on_commit(relay_kick)
    return created


# While a kick waits for a worker, later commits need not send another: the relay clears
# the flag before it reads, so the waiting kick sees every row committed before that.
KICK_FLAG_SECONDS = 10


def relay_kick() -> None:
    """Ask a relay worker to publish now, unless a kick is already waiting for one."""
    from shared_events.django.tasks import relay_outbox  # tasks import this module

    try:
        if not _kick_flags().set(_kick_flag_key(), 1, nx=True, ex=KICK_FLAG_SECONDS):
            return
        relay_outbox.apply_async(expires=30, retry=False)
    except Exception:
        logger.warning("could not kick the outbox relay; the periodic sweep will", exc_info=True)
        relay_kick_clear()


def relay_kick_clear() -> None:
    """Let the next commit kick the relay again (called as a relay run starts)."""
    try:
        _kick_flags().delete(_kick_flag_key())
    except redis.RedisError:
        logger.warning("could not clear the relay kick flag; it expires by itself")


@functools.cache
def _kick_flags() -> redis.Redis:
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
    )


def _kick_flag_key() -> str:
    config = events_config()
    return f"saga:{config.kafka.namespace}{config.service_name}:relay-kick"
