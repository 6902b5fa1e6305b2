"""The outbox (events waiting for Kafka) and the inbox (events already applied)."""

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

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
