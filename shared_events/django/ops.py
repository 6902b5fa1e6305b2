"""How far behind this service is: its outbox backlog, its dead letters and its consumer
groups' lag. `/metrics`, the admin's outbox page and the staff ops API all read them here."""

import dataclasses
from datetime import datetime

from confluent_kafka import KafkaException
from django.db.models import Count, Min, Q
from django.utils import timezone

from shared_events.django.conf import events_config
from shared_events.django.models import DeadLetter, OutboxMessage
from shared_events.kafka.status import GroupStatus, cluster_status
from shared_events.topics import dead_letter_group, dead_letter_topic

# The staff console polls every few seconds: a broker that does not answer costs one
# request this long, never a hung worker.
KAFKA_STATUS_TIMEOUT_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class OutboxBacklog:
    pending: int  # not yet published, still being tried
    failed: int  # parked as failed: they wait for a republish
    oldest_pending_age_seconds: float  # 0 when none is pending


@dataclasses.dataclass(frozen=True)
class DeadLetterCounts:
    unreplayed: int
    total: int


@dataclasses.dataclass(frozen=True)
class TopicLag:
    topic: str
    lag: int


@dataclasses.dataclass(frozen=True)
class GroupLag:
    group: str
    state: str
    members: int
    lag: int
    topics: list[TopicLag]


@dataclasses.dataclass(frozen=True)
class KafkaLag:
    reachable: bool
    error: str  # why the broker could not be asked; empty when it answered
    groups: list[GroupLag]


@dataclasses.dataclass(frozen=True)
class OpsStatus:
    service: str
    checked_at: datetime
    outbox: OutboxBacklog
    dead_letters: DeadLetterCounts
    kafka: KafkaLag


def outbox_backlog() -> OutboxBacklog:
    """Count the unpublished outbox rows, and time how long the oldest pending one waited."""
    stats = OutboxMessage.objects.filter(published_at__isnull=True).aggregate(
        pending=Count("id", filter=Q(failed_at__isnull=True)),
        failed=Count("id", filter=Q(failed_at__isnull=False)),
        oldest=Min("created_at", filter=Q(failed_at__isnull=True)),
    )
    age = (timezone.now() - stats["oldest"]).total_seconds() if stats["oldest"] else 0.0
    return OutboxBacklog(
        pending=stats["pending"], failed=stats["failed"], oldest_pending_age_seconds=max(age, 0.0)
    )


def dead_letter_counts() -> DeadLetterCounts:
    stats = DeadLetter.objects.aggregate(
        unreplayed=Count("id", filter=Q(replayed_at__isnull=True)), total=Count("id")
    )
    return DeadLetterCounts(unreplayed=stats["unreplayed"], total=stats["total"])


def consumer_groups_status(*, timeout: float) -> list[GroupStatus]:
    """This service's consumer groups (events and dead letters) with their lag per partition
    on every topic they read. Raises KafkaException when the broker does not answer."""
    config = events_config()
    groups = [config.consumer_group, dead_letter_group(config.consumer_group)]
    topics = [
        *config.consume_topics,
        config.replay_topic,
        *map(dead_letter_topic, config.consume_topics),
    ]
    return cluster_status(config.kafka, topics=topics, groups=groups, timeout=timeout).groups


def consumer_lag(*, timeout: float = KAFKA_STATUS_TIMEOUT_SECONDS) -> KafkaLag:
    """Each consumer group's lag per topic; a broker that does not answer is reported, not
    raised."""
    try:
        groups = consumer_groups_status(timeout=timeout)
    except KafkaException as exc:
        return KafkaLag(reachable=False, error=f"Kafka did not answer: {exc}", groups=[])
    return KafkaLag(
        reachable=True,
        error="",
        groups=[
            GroupLag(
                group=group.group,
                state=group.state,
                members=len(group.members),
                lag=group.lag,
                topics=[
                    TopicLag(
                        topic=topic,
                        lag=sum(p.lag for p in group.partitions if p.topic == topic),
                    )
                    for topic in dict.fromkeys(p.topic for p in group.partitions)
                ],
            )
            for group in groups
        ],
    )


def ops_status() -> OpsStatus:
    """Everything the staff console shows about this service's messaging, read now."""
    return OpsStatus(
        service=events_config().service_name,
        checked_at=timezone.now(),
        outbox=outbox_backlog(),
        dead_letters=dead_letter_counts(),
        kafka=consumer_lag(),
    )
