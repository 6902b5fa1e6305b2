"""`manage.py consume_events`: apply this service's incoming events."""

import logging
import os
import signal
from typing import Any

from confluent_kafka import Message
from django.core.management.base import BaseCommand

from shared_events.django.conf import events_config
from shared_events.django.inbox import event_apply
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.registry import decode_event

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

    def handle(self, *args: Any, batch_size: int, instance_id: str, **options: Any) -> None:
        config = events_config()
        handlers = config.handlers()

        def process(message: Message) -> None:
            event = decode_event(message.value())
            handler = handlers.get(type(event.payload))
            if handler is None:
                logger.debug("%s is not for this service", event.event_type)
                return
            event_apply(event, handler)

        loop = ConsumerLoop(
            settings=config.kafka,
            group_id=config.consumer_group,
            topics=config.consume_topics,
            process=process,
            batch_size=batch_size,
            instance_id=instance_id,
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.stop())
        loop.run()
