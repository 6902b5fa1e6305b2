"""Writing events to the outbox, inside the caller's transaction."""

import logging
import uuid

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


def relay_kick() -> None:
    """Ask a relay worker to publish now; the beat sweep covers a lost kick."""
    from shared_events.django.tasks import relay_outbox  # tasks import this module

    try:
        relay_outbox.apply_async(expires=30, retry=False)
    except Exception:
        logger.warning("could not kick the outbox relay; the periodic sweep will", exc_info=True)
