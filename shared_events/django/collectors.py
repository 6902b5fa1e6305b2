"""Gauges computed when `/metrics` is scraped: outbox backlog, dead letters, consumer lag."""

from collections.abc import Iterable

from confluent_kafka import KafkaException
from django.db.models import Count, Q
from prometheus_client.core import Metric

from shared_events.django.models import DeadLetter
from shared_events.django.ops import consumer_groups_status, outbox_backlog
from shared_events.observability.metrics import CachedCollector, gauge, labelled_gauge


class OutboxCollector(CachedCollector):
    """Rows waiting for Kafka, rows parked as failed, and how long the oldest has waited."""

    def compute(self) -> Iterable[Metric]:
        backlog = outbox_backlog()
        yield gauge("saga_outbox_pending", "Outbox rows not yet published.", backlog.pending)
        yield gauge(
            "saga_outbox_failed",
            "Outbox rows parked as failed (need a republish).",
            backlog.failed,
        )
        yield gauge(
            "saga_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none).",
            backlog.oldest_pending_age_seconds,
        )


class DeadLetterCollector(CachedCollector):
    """Dead letters stored by this service, replayed or not, per original topic and error."""

    def compute(self) -> Iterable[Metric]:
        rows = list(
            DeadLetter.objects.values("original_topic", "error_class")
            .annotate(unreplayed=Count("id", filter=Q(replayed_at__isnull=True)), total=Count("id"))
            .order_by()
        )
        yield labelled_gauge(
            "saga_dead_letters",
            "Dead letters stored for browsing and replay, by state.",
            ["original_topic", "error", "state"],
            [(r["original_topic"], r["error_class"], "unreplayed", r["unreplayed"]) for r in rows]
            + [
                (r["original_topic"], r["error_class"], "replayed", r["total"] - r["unreplayed"])
                for r in rows
            ],
        )


class ConsumerLagCollector(CachedCollector):
    """Lag per group and partition of this service's consumers, read from the broker."""

    ttl = 10.0
    timeout = 3.0

    def compute(self) -> Iterable[Metric]:
        try:
            groups = consumer_groups_status(timeout=self.timeout)
        except KafkaException:
            yield gauge("saga_kafka_up", "1 when the broker answered the last lag query.", 0)
            return
        yield gauge("saga_kafka_up", "1 when the broker answered the last lag query.", 1)
        yield labelled_gauge(
            "saga_consumer_lag",
            "Messages not yet committed by the group (end offset minus committed offset).",
            ["group", "topic", "partition"],
            [(g.group, p.topic, p.partition, p.lag) for g in groups for p in g.partitions],
        )
        yield labelled_gauge(
            "saga_consumer_group_members",
            "Members currently in the consumer group.",
            ["group", "state"],
            [(g.group, g.state, len(g.members)) for g in groups],
        )
