"""Celery settings both services share, and beat's schedule: the outbox sweep (behind the
following relay) and housekeeping. A service imports every name of this module, then sets
CELERY_BROKER_URL and CELERY_BEAT_SCHEDULE (`celery_beat_schedule`, plus its own tasks)."""

from datetime import timedelta
from typing import Any

__all__ = [
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP",
    "CELERY_DB_REUSE_MAX",
    "CELERY_TASK_ACKS_LATE",
    "CELERY_TASK_IGNORE_RESULT",
    "CELERY_WORKER_HIJACK_ROOT_LOGGER",
    "CELERY_WORKER_PREFETCH_MULTIPLIER",
]

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep a worker's database connection across tasks (Celery closes it after each task
# otherwise, and every sweep would pay for a new connection).
CELERY_DB_REUSE_MAX = 1000
# Keep Django's LOGGING (JSON in production, event context on every line).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

RELAY_SWEEP_SECONDS = 2.0


def celery_beat_schedule(
    *, sweep_seconds: float = RELAY_SWEEP_SECONDS, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The relay sweep and the purge of old events, plus a service's own beat tasks."""
    return {
        "relay-outbox-sweep": {
            "task": "shared_events.relay_outbox",
            "schedule": timedelta(seconds=sweep_seconds),
            # A tick that waits behind a long relay is useless: let it expire.
            "options": {"expires": sweep_seconds},
        },
        "purge-events": {
            "task": "shared_events.purge_events",
            "schedule": timedelta(hours=1),
            "options": {"expires": 600},
        },
        **(extra or {}),
    }
