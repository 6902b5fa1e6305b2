"""Celery settings: beat's outbox sweep (behind the following relay) and housekeeping."""

from datetime import timedelta
from typing import Any

RELAY_SWEEP_SECONDS = 2.0


def celery_settings(
    *,
    broker_url: str,
    sweep_seconds: float = RELAY_SWEEP_SECONDS,
    extra_schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the CELERY_* settings of one service; `extra_schedule` adds its own beat tasks."""
    return {
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_IGNORE_RESULT": True,
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        # Keep a worker's database connection across tasks (Celery closes it after each
        # task otherwise, and every sweep would pay for a new connection).
        "CELERY_DB_REUSE_MAX": 1000,
        # Keep Django's LOGGING (JSON in production, event context on every line).
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        "CELERY_BEAT_SCHEDULE": {
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
            **(extra_schedule or {}),
        },
    }
