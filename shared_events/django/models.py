"""The outbox (events waiting for Kafka), the inbox (events already applied) and dead letters."""

import uuid

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """An event committed with its domain change, waiting to be relayed to Kafka."""

    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=200)
    event_version = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=255)
    message_key = models.CharField(max_length=255)
    correlation_id = models.CharField(max_length=100, blank=True, db_index=True)
    # The serialized envelope, exactly the bytes that go to Kafka.
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # After a failed send the relay waits until then (exponential backoff).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set when Kafka refused the message itself; the row is parked until redriven.
    failed_at = models.DateTimeField(null=True, blank=True)
    # W3C trace context of the transaction that wrote the row, sent as a Kafka header.
    traceparent = models.CharField(max_length=55, blank=True, default="", db_default="")
    # X-Request-ID of the HTTP request that wrote the row ("" for consumers and tasks).
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            # Matches the relay's scan, and stays small however much history there is.
            models.Index(
                fields=["id"],
                name="outbox_unpublished_idx",
                condition=Q(published_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["published_at"], name="outbox_published_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    @property
    def status(self) -> str:
        if self.published_at:
            return "published"
        return "failed" if self.failed_at else "pending"


class ProcessedEvent(models.Model):
    """An event whose effect is committed; its id makes a redelivery a no-op."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=200)
    correlation_id = models.CharField(max_length=100, blank=True, db_index=True)
    processed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Kept for the saga timeline: which event caused this one, when and where it happened.
    causation_id = models.UUIDField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    producer = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class DeadLetter(models.Model):
    """A message a consumer gave up on, read back from its dead-letter topic for browsing."""

    # Where the dead letter sits: (topic, partition, offset) makes storing it idempotent.
    topic = models.CharField(max_length=255)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    # Where it came from, and why it failed (the consumer loop's `dlq.*` headers).
    original_topic = models.CharField(max_length=255, db_index=True)
    original_partition = models.IntegerField(null=True, blank=True)
    original_offset = models.BigIntegerField(null=True, blank=True)
    consumer_group = models.CharField(max_length=255, blank=True)
    error_class = models.CharField(max_length=200, blank=True, db_index=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(null=True, blank=True)
    # The original message, byte for byte.
    message_key = models.BinaryField(null=True, blank=True)
    value = models.BinaryField(default=bytes)
    headers = models.JSONField(default=list, blank=True, help_text="[[name, value], ...]")
    # Read from the message where it is a valid envelope (empty otherwise).
    event_id = models.CharField(max_length=100, blank=True, db_index=True)
    event_type = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    replay_count = models.PositiveIntegerField(default=0)
    replayed_at = models.DateTimeField(null=True, blank=True)
    last_replay_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "partition", "offset"], name="dead_letter_unique_position"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"], name="dead_letter_unreplayed_idx", condition=Q(replayed_at=None)
            ),
        ]

    def __str__(self) -> str:
        what = self.event_type or "undecodable message"
        return (
            f"{what} from {self.original_topic}[{self.original_partition}]@{self.original_offset}"
        )

    @property
    def value_text(self) -> str:
        return bytes(self.value).decode(errors="replace")

    @property
    def key_text(self) -> str:
        return bytes(self.message_key).decode(errors="replace") if self.message_key else ""
