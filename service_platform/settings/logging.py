"""Logging: JSON lines in production, readable text in development, event context on each line.

Every record goes through structlog's `ProcessorFormatter`, so plain `logging` calls get the
same treatment: what is bound for the current request or consumed event (correlation_id,
event_id, event_type, request_id, Kafka position; see `shared_events.observability.logging`)
and any `extra=` fields are added to the line.
"""

from typing import Any

import structlog

LOG_FORMATS = ("text", "json")


def log_processors() -> list[Any]:
    """What every record gets before it is rendered."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def log_formatter(fmt: str) -> dict[str, Any]:
    """A `logging.config` formatter: `json` (one object per line) or `text`."""
    if fmt == "json":
        render: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    else:
        render = [structlog.dev.ConsoleRenderer(colors=False)]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": log_processors(),
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
    }


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
        },
    }
