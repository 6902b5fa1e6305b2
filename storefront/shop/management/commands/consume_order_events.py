"""`manage.py consume_order_events`: feed each order's Redis stream from `order-events`.

A third consumer group of the saga's events (`storefront`), read only: it writes nothing to
Kafka. An event it cannot read is logged and skipped: the page falls back to the order API.
"""

import logging
import signal
from collections.abc import Sequence
from typing import Any

import redis
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message
from django.conf import settings
from django.core.management.base import BaseCommand

from shared_events.errors import TransientEventError
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.consumer import ConsumerLoop
from shared_events.kafka.producer import EventProducer, OutgoingMessage
from shared_events.topics import ORDER_EVENTS, topic_name
from storefront.shop.order_events import OrderStreamEntry, order_stream_key, stream_entry_of

logger = logging.getLogger(__name__)


class NoDeadLetters(EventProducer):
    """The storefront dead-letters nothing (and has no right to write any topic)."""

    def __init__(self, settings: KafkaSettings) -> None:  # no Kafka producer at all
        pass

    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float = 10.0) -> Any:
        raise RuntimeError("the storefront's consumer does not dead-letter")

    def close(self, timeout: float = 10.0) -> None:
        pass


def stream_entries_append(client: redis.Redis, entries: list[OrderStreamEntry]) -> None:
    """XADD each entry to its order's stream (capped, expiring), in one round trip."""
    pipe = client.pipeline(transaction=False)
    for entry in entries:
        key = order_stream_key(entry.order_id)
        pipe.xadd(
            key,
            entry.fields(),  # type: ignore[arg-type]
            maxlen=settings.ORDER_STREAM_MAXLEN,
            approximate=True,
        )
        pipe.expire(key, settings.ORDER_STREAM_TTL_SECONDS)
    pipe.execute()


def message_entry(message: Message) -> OrderStreamEntry | None:
    kind, timestamp_ms = message.timestamp()
    return stream_entry_of(
        message.value(), published_at_ms=timestamp_ms if kind != TIMESTAMP_NOT_AVAILABLE else None
    )


class Command(BaseCommand):
    help = "Consume order-events into each order's Redis stream for the live order page."

    def handle(self, *args: Any, **options: Any) -> None:
        kafka: KafkaSettings = settings.KAFKA
        client = redis.Redis.from_url(settings.STOREFRONT_REDIS_URL)

        def process_batch(messages: list[Message]) -> None:
            entries = [e for e in map(message_entry, messages) if e]
            try:
                if entries:
                    stream_entries_append(client, entries)
            except redis.RedisError as exc:
                raise TransientEventError(f"redis: {exc}") from exc

        def process(message: Message) -> None:
            process_batch([message])

        loop = ConsumerLoop(
            settings=kafka,
            group_id=topic_name(settings.STOREFRONT_CONSUMER_GROUP, namespace=kafka.namespace),
            topics=[topic_name(ORDER_EVENTS, namespace=kafka.namespace)],
            process=process,
            process_batch=process_batch,
            new_producer=NoDeadLetters,
        )
        signal.signal(signal.SIGTERM, lambda *_: loop.stop())
        signal.signal(signal.SIGINT, lambda *_: loop.stop())
        loop.run()
