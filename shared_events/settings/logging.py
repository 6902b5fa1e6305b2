"""Logging: JSON lines in production, readable text in development, event context on each line.

Both formats add what is bound for the current request or consumed event (correlation_id,
event_id, event_type, request_id, Kafka position) and any `extra=` fields: see
`shared_events.observability.logging`.
"""

from typing import Any

from shared_events.observability.logging import log_formatter

LOG_FORMATS = ("text", "json")


def logging_settings(*, level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"saga": log_formatter(fmt)},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "saga"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "celery": {"level": "WARNING"},
            # Probes of a stopped dependency are reported by the health endpoint itself.
            "health_check": {"level": "ERROR"},
        },
    }
