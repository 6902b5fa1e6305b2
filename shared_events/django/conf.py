"""The service's messaging configuration, read once from Django settings."""

import dataclasses
import functools
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from shared_events.kafka.config import DAY_MS, KafkaSettings
from shared_events.registry import EventSources
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
    def replay_topic(self) -> str:
        """Where replayed dead letters go: the group's own retry topic, which it consumes
        with `consume_topics` and, under ACLs, alone may write and read."""
        return retry_topic(self.consumer_group)

    @property
    def dead_letter_topics(self) -> dict[str, str]:
        """Each consumed topic's dead-letter topic; a replay that fails again joins the
        dead letters of the topic the service consumes."""
        topics = {topic: dead_letter_topic(topic) for topic in self.consume_topics}
        return {**topics, self.replay_topic: dead_letter_topic(self.consume_topics[0])}

    def handlers(self) -> "EventHandlers":
        handlers: EventHandlers = import_string(self.handlers_path)
        return handlers

    @property
    def event_sources(self) -> EventSources:
        return EventSources(namespace=self.kafka.namespace, replay_topic=self.replay_topic)


def retention_problem(*, retention_days: int, kafka: KafkaSettings) -> str | None:
    """Why processed-event ids would be purged while Kafka can still deliver their events.

    A redelivered message whose id was purged is applied again, so the ids must outlive
    every message on the topics and every committed offset (without one, a group starts
    again from the oldest message).
    """
    kept_ms = retention_days * DAY_MS
    if kafka.topic_retention_ms < 0 or kept_ms <= kafka.message_lifetime_ms:
        return (
            f"EVENTS_RETENTION_DAYS ({retention_days}) must be longer than a message can stay on"
            f" a topic: retention.ms {kafka.topic_retention_ms} + segment.ms"
            f" {kafka.topic_segment_ms} (KAFKA_TOPIC_RETENTION_MS, KAFKA_TOPIC_SEGMENT_MS)"
        )
    if kept_ms <= kafka.offsets_retention_minutes * 60_000:
        return (
            f"EVENTS_RETENTION_DAYS ({retention_days}) must be longer than the broker keeps"
            f" committed offsets: {kafka.offsets_retention_minutes} minutes"
            " (KAFKA_OFFSETS_RETENTION_MINUTES)"
        )
    return None


@functools.cache
def events_config() -> EventsConfig:
    """The configuration; refuses one under which an event could be applied twice."""
    raw = settings.SHARED_EVENTS
    kafka: KafkaSettings = settings.KAFKA
    namespace = kafka.namespace
    consume_topics = [topic_name(t, namespace=namespace) for t in raw["CONSUME_TOPICS"]]
    retention_days = int(raw.get("RETENTION_DAYS", 9))
    problem = retention_problem(retention_days=retention_days, kafka=kafka)
    if problem is not None:
        raise ImproperlyConfigured(problem)
    return EventsConfig(
        service_name=raw["SERVICE_NAME"],
        publish_topic=topic_name(raw["PUBLISH_TOPIC"], namespace=namespace),
        consume_topics=consume_topics,
        consumer_group=topic_name(raw["CONSUMER_GROUP"], namespace=namespace),
        handlers_path=raw["HANDLERS"],
        outbox_batch_size=int(raw.get("OUTBOX_BATCH_SIZE", 1000)),
        outbox_max_attempts=int(raw.get("OUTBOX_MAX_ATTEMPTS", 5)),
        retention_days=retention_days,
        kafka=kafka,
    )
