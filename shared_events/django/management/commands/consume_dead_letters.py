"""`manage.py consume_dead_letters`: store this service's dead letters for browsing and replay."""

import os
import signal
from typing import Any

from django.core.management.base import BaseCommand

from shared_events.django.conf import events_config
from shared_events.django.dead_letters import dead_letter_store
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.observability.metrics import metrics_server_start
from shared_events.topics import dead_letter_group, dead_letter_topic


class Command(BaseCommand):
    help = (
        "Read the dead-letter topics of the topics this service consumes (<topic>.dlq) "
        "and store each dead letter in the database (admin: Dead letters)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=int(os.environ.get("METRICS_PORT") or 0),
            help="serve Prometheus metrics on this port (default: METRICS_PORT, 0 for none)",
        )

    def handle(self, *args: Any, metrics_port: int, **options: Any) -> None:
        config = events_config()
        if metrics_port:
            metrics_server_start(metrics_port)
        loop = ConsumerLoop(
            settings=config.kafka,
            group_id=dead_letter_group(config.consumer_group),
            topics=[dead_letter_topic(topic) for topic in config.consume_topics],
            process=dead_letter_store,
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.stop())
        loop.run()
