"""System checks: a configuration under which an event could be applied twice is an error."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from shared_events.django.conf import retention_problem


def retention_check(**_kwargs: Any) -> list[CheckMessage]:
    """Processed-event ids must outlive Kafka's messages and committed offsets."""
    problem = retention_problem(
        retention_days=int(settings.SHARED_EVENTS.get("RETENTION_DAYS", 9)), kafka=settings.KAFKA
    )
    return [] if problem is None else [Error(problem, id="shared_events.E001")]
