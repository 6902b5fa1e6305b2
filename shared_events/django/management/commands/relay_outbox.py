"""`manage.py relay_outbox`: drain the outbox once, follow it, or redrive failed rows."""

import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from shared_events.django.relay import outbox_redrive, relay_follow, relay_outbox
from shared_events.observability.metrics import metrics_server_start


class Command(BaseCommand):
    help = "Publish pending outbox rows now, or (--follow) as soon as each commit adds some."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--redrive-failed",
            action="store_true",
            help="give rows parked as failed another chance first",
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="keep running: relay whenever a transaction commits outbox rows (until SIGTERM)",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=int(os.environ.get("METRICS_PORT") or 0),
            help="with --follow, serve Prometheus metrics on this port (default: METRICS_PORT)",
        )

    def handle(
        self, *args: Any, redrive_failed: bool, follow: bool, metrics_port: int, **options: Any
    ) -> None:
        if redrive_failed:
            self.stdout.write(f"reset {outbox_redrive()} failed row(s)")
        if follow:
            if metrics_port:
                metrics_server_start(metrics_port)
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            relay_follow(stop=stop)
            return
        result = relay_outbox(max_batches=10_000)
        self.stdout.write(f"published {result.published}, failed {result.failed}")
