"""`manage.py create_topics`: create the saga's topics (auto-creation is off)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shared_events.django.conf import events_config
from shared_events.kafka.admin import topics_ensure, wait_for_broker


class Command(BaseCommand):
    help = "Create the event topics and their dead-letter topics if missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait", type=float, default=30.0, help="seconds to wait for the broker"
        )

    def handle(self, *args: Any, wait: float, **options: Any) -> None:
        kafka = events_config().kafka
        try:
            wait_for_broker(kafka, timeout=wait)
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
        created = topics_ensure(kafka)
        self.stdout.write(f"topics created: {', '.join(created) or 'none (all exist)'}")
