from django.apps import AppConfig
from django.core import checks


class SharedEventsConfig(AppConfig):
    name = "shared_events.django"
    label = "shared_events"
    verbose_name = "Events (outbox and inbox)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shared_events.django.checks import retention_check

        checks.register(retention_check)
