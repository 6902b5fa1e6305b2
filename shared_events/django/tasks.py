"""Celery tasks: thin wrappers over the relay and housekeeping functions."""

from datetime import timedelta

from celery import shared_task

from shared_events.django import relay
from shared_events.django.conf import events_config


@shared_task(name="shared_events.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish pending outbox rows to Kafka (the sweep behind the following relay)."""
    return relay.relay_outbox().published


@shared_task(name="shared_events.purge_events", ignore_result=True)
def purge_events() -> tuple[int, int, int]:
    """Delete published outbox rows, processed-event ids and dead letters past their
    retention."""
    return relay.events_purge(older_than=timedelta(days=events_config().retention_days))
