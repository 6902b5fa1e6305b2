"""`manage.py relay_outbox`: drain the outbox once, or redrive failed rows."""

from typing import Any

from django.core.management.base import BaseCommand

from shared_events.django.relay import outbox_redrive, relay_outbox


class Command(BaseCommand):
    help = "Publish pending outbox rows now (and optionally reset failed ones first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--redrive-failed",
            action="store_true",
            help="give rows parked as failed another chance first",
        )

    def handle(self, *args: Any, redrive_failed: bool, **options: Any) -> None:
        if redrive_failed:
            self.stdout.write(f"reset {outbox_redrive()} failed row(s)")
        result = relay_outbox(max_batches=10_000)
        self.stdout.write(f"published {result.published}, failed {result.failed}")
