"""`manage.py consume_events`: apply this service's incoming events."""

import logging
import os
import signal
from typing import Any

from confluent_kafka import Message
from django.core.management.base import BaseCommand

from shared_events.django.conf import events_config
from shared_events.django.consuming import event_message_process, event_messages_process
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.observability.metrics import metrics_server_start
from shared_events.observability.tracing import tracing_enabled

logger = logging.getLogger("shared_events.consumer")


class Command(BaseCommand):
    help = "Consume this service's topics and apply each event exactly once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument(
            "--instance-id",
            default=os.environ.get("KAFKA_GROUP_INSTANCE_ID", ""),
            help="stable id of this process in the group (static membership): a restarted "
            "process gets its partitions back without waiting for the session timeout",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=int(os.environ.get("METRICS_PORT") or 0),
            help="serve Prometheus metrics on this port (default: METRICS_PORT, 0 for none)",
        )

    def handle(
        self, *args: Any, batch_size: int, instance_id: str, metrics_port: int, **options: Any
    ) -> None:
        config = events_config()
        handlers = config.handlers()

        def process(message: Message) -> None:
            event_message_process(message, handlers=handlers)

        def process_batch(messages: list[Message]) -> None:
            event_messages_process(messages, handlers=handlers)

        if metrics_port:
            metrics_server_start(metrics_port)

        loop = ConsumerLoop(
            settings=config.kafka,
            group_id=config.consumer_group,
            topics=[*config.consume_topics, config.replay_topic],
            dead_letter_topics=config.dead_letter_topics,
            process=process,
            # Traced, every event gets a span (and its outbox rows a parent) of its own.
            process_batch=None if tracing_enabled() else process_batch,
            batch_size=batch_size,
            instance_id=instance_id,
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.stop())
        loop.run()
