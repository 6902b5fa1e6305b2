"""The service's messaging configuration, read once from Django settings."""

import dataclasses
import functools
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from shared_events.kafka.config import KafkaSettings
from shared_events.topics import dead_letter_topic, retry_topic, topic_name

if TYPE_CHECKING:
    from shared_events.django.inbox import EventHandlers


@dataclasses.dataclass(frozen=True)
class EventsConfig:
    service_name: str
    publish_topic: str
    consume_topics: list[str]
    consumer_group: str
    handlers_path: str
    outbox_batch_size: int
    outbox_max_attempts: int
    retention_days: int
    kafka: KafkaSettings

    @property
    def retry_topic(self) -> str:
        """The group's own topic for replayed dead letters; consumed with `consume_topics`."""
        return retry_topic(self.consumer_group)

    @property
    def dead_letter_topics(self) -> dict[str, str]:
        """Each consumed topic's dead-letter topic; a replay that fails again joins the
        dead letters of the topic the service consumes."""
        topics = {topic: dead_letter_topic(topic) for topic in self.consume_topics}
        return {**topics, self.retry_topic: dead_letter_topic(self.consume_topics[0])}

    def handlers(self) -> "EventHandlers":
        handlers: EventHandlers = import_string(self.handlers_path)
        return handlers


@functools.cache
def events_config() -> EventsConfig:
    raw = settings.SHARED_EVENTS
    kafka: KafkaSettings = settings.KAFKA
    namespace = kafka.namespace
    return EventsConfig(
        service_name=raw["SERVICE_NAME"],
        publish_topic=topic_name(raw["PUBLISH_TOPIC"], namespace=namespace),
        consume_topics=[topic_name(t, namespace=namespace) for t in raw["CONSUME_TOPICS"]],
        consumer_group=topic_name(raw["CONSUMER_GROUP"], namespace=namespace),
        handlers_path=raw["HANDLERS"],
        outbox_batch_size=int(raw.get("OUTBOX_BATCH_SIZE", 1000)),
        outbox_max_attempts=int(raw.get("OUTBOX_MAX_ATTEMPTS", 5)),
        retention_days=int(raw.get("RETENTION_DAYS", 7)),
        kafka=kafka,
    )
