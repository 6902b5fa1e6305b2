"""The consumer loop: poll, process, dead-letter what cannot succeed, commit what is done.

Offsets move only after an event's effect is committed (or it is safely dead-lettered),
so a crash at any point redelivers at most the events whose offsets were not committed;
the inbox makes that redelivery harmless.
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from shared_events import headers
from shared_events.errors import PermanentEventError, TransientEventError
from shared_events.headers import Headers, message_headers
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.producer import EventProducer, OutgoingMessage
from shared_events.observability.logging import log_context_clear, message_log_context
from shared_events.observability.metrics import message_dead_lettered_record
from shared_events.topics import dead_letter_topic

logger = logging.getLogger(__name__)

MessageProcessor = Callable[[Message], object]
# Applies every message of a batch or, raising, none of them (one database transaction).
BatchProcessor = Callable[[list[Message]], None]


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a transient failure is retried in place."""

    attempts: int = 5
    first_backoff: float = 0.2
    max_backoff: float = 5.0
    # After `attempts` in place, every partition is paused for this long, doubling up to
    # `max_pause` while failures go on (a circuit breaker), and polling continues meanwhile
    # so the group never sees the member as stuck.
    first_pause: float = 1.0
    max_pause: float = 30.0

    def backoff(self, attempt: int) -> float:
        return min(self.first_backoff * 2.0 ** (attempt - 1), self.max_backoff)

    def pause(self, consecutive: int) -> float:
        return min(self.first_pause * 2.0 ** (consecutive - 1), self.max_pause)


class Position(NamedTuple):
    """Where a consumed message sits."""

    topic: str
    partition: int
    offset: int

    @property
    def partition_key(self) -> tuple[str, int]:
        return self.topic, self.partition


def message_position(message: Message) -> Position:
    """A consumed message's position (one that is not an error always has all three)."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None and partition is not None and offset is not None
    return Position(topic, partition, offset)


class ConsumerFatalError(RuntimeError):
    """The Kafka client is unusable; the process should exit and be restarted."""


class ConsumerLoop:
    """Consume `topics` as `group_id`, handing each message to `process`.

    `process` raises PermanentEventError for a message that can never succeed (it is
    dead-lettered with its original bytes) and TransientEventError for a passing failure
    (retried with backoff; if it persists the partition is rewound and tried again later).

    With `process_batch`, each polled batch is first offered whole, which is much cheaper
    than one transaction per message; if that fails for any reason, nothing of it was
    applied and the batch goes through `process` one message at a time, so the failing
    message alone is retried or dead-lettered.
    """

    def __init__(
        self,
        *,
        settings: KafkaSettings,
        group_id: str,
        topics: list[str],
        process: MessageProcessor,
        dead_letter_topics: Mapping[str, str] | None = None,
        process_batch: BatchProcessor | None = None,
        retry: RetryPolicy = RetryPolicy(),
        batch_size: int = 200,
        poll_timeout: float = 0.5,
        commit_interval: float = 0.1,
        instance_id: str = "",
        new_consumer: Callable[[dict[str, Any]], Consumer] | None = None,
        new_producer: Callable[[KafkaSettings], EventProducer] | None = None,
    ) -> None:
        self._settings = settings
        self._group_id = group_id
        self._topics = topics
        # Where a consumed topic's dead letters go, when not to <topic>.dlq.
        self._dead_letter_topics = dict(dead_letter_topics or {})
        self._process = process
        self._process_batch = process_batch
        self._retry = retry
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout
        self._commit_interval = commit_interval
        self._next_commit_at = 0.0
        self._instance_id = instance_id
        # What makes the Kafka clients when it runs: the real ones unless given (fakes in
        # unit tests).
        self._new_consumer = new_consumer or Consumer
        self._new_producer = new_producer or EventProducer
        self._stopping = False
        self._pending: dict[tuple[str, int], int] = {}
        self._consumer: Consumer | None = None
        self._dead_letters: EventProducer | None = None
        self._paused_until: float | None = None
        self._consecutive_pauses = 0

    def stop(self) -> None:
        """Finish the current batch, commit, and leave the loop."""
        self._stopping = True

    def run(self) -> None:
        consumer = self._consumer = self._new_consumer(
            self._settings.consumer_config(self._group_id, instance_id=self._instance_id)
        )
        self._dead_letters = self._new_producer(self._settings)
        consumer.subscribe(self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        logger.info("consuming %s as group %s", ", ".join(self._topics), self._group_id)
        try:
            while not self._stopping:
                self._maybe_resume()
                self._handle_batch(self._next_batch(consumer))
                self._commit_when_due()
        finally:
            self._commit()
            consumer.close()
            self._dead_letters.close()
            logger.info("consumer for group %s closed", self._group_id)

    def _next_batch(self, consumer: Consumer) -> list[Message]:
        # Wait for one message, then take whatever else is already fetched: a batch
        # helps throughput without holding a lone message back for the poll timeout.
        first = consumer.poll(self._poll_timeout)
        if first is None:
            return []
        return [first, *consumer.consume(self._batch_size - 1, 0)]

    def _handle_batch(self, messages: list[Message]) -> None:
        if self._batch_applied(messages):
            for message in messages:
                self._mark_done(message)
            self._consecutive_pauses = 0
            log_context_clear()
            return
        rewound: set[tuple[str, int]] = set()
        for message in messages:
            error = message.error()
            if error is not None:
                self._log_client_error(error)
                continue
            partition = message_position(message).partition_key
            if partition in rewound or self._paused_until is not None:
                self._rewind(message, rewound)  # redelivered once resumed
                continue
            if self._stopping:
                self._rewind(message, rewound)
                continue
            if self._handle(message):
                self._mark_done(message)
                self._consecutive_pauses = 0
            else:
                self._rewind(message, rewound)
                if not self._stopping:
                    self._pause_all()
        log_context_clear()  # what follows is about no message in particular

    def _batch_applied(self, messages: list[Message]) -> bool:
        """Offer the whole batch to `process_batch`; True when every message is done."""
        if (
            self._process_batch is None
            or len(messages) < 2
            or self._stopping
            or self._paused_until is not None
            or any(message.error() for message in messages)
        ):
            return False
        try:
            self._process_batch(messages)
        except Exception:  # noqa: BLE001 - applied one by one next, where it is handled
            return False
        return True

    def _handle(self, message: Message) -> bool:
        """Process one message; True when its offset may be committed."""
        message_log_context(message)
        for attempt in range(1, self._retry.attempts + 1):
            try:
                self._process(message)
                return True
            except PermanentEventError as exc:
                return self._dead_letter(message, exc, attempt)
            except TransientEventError as exc:
                delay = self._retry.backoff(attempt)
                logger.warning(
                    "transient failure on %s[%d]@%d (attempt %d/%d), retrying in %.1fs: %s",
                    message.topic(),
                    message.partition(),
                    message.offset(),
                    attempt,
                    self._retry.attempts,
                    delay,
                    exc,
                )
                if self._stopping:
                    return False
                time.sleep(delay)
            except Exception as exc:
                logger.exception(
                    "unexpected error handling %s[%d]@%d",
                    message.topic(),
                    message.partition(),
                    message.offset(),
                )
                return self._dead_letter(message, exc, attempt)
        return False

    def _dead_letter(self, message: Message, error: BaseException, attempts: int) -> bool:
        """Publish the original bytes to the dead-letter topic; True once Kafka has them."""
        assert self._dead_letters is not None
        position = message_position(message)
        topic = self._dead_letter_topics.get(position.topic) or dead_letter_topic(position.topic)
        dead_letter_headers: Headers = [
            *message_headers(message),
            (headers.DLQ_ERROR_CLASS, type(error).__name__.encode()),
            (headers.DLQ_ERROR_MESSAGE, str(error)[:2000].encode()),
            (headers.DLQ_CONSUMER_GROUP, self._group_id.encode()),
            (headers.DLQ_ORIGINAL_TOPIC, position.topic.encode()),
            (headers.DLQ_ORIGINAL_PARTITION, str(position.partition).encode()),
            (headers.DLQ_ORIGINAL_OFFSET, str(position.offset).encode()),
            (headers.DLQ_ATTEMPTS, str(attempts).encode()),
            (headers.DLQ_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        outgoing = OutgoingMessage(
            topic=topic,
            key=message.key(),
            value=message.value() or b"",
            headers=dead_letter_headers,
        )
        [report] = self._dead_letters.publish_batch([outgoing], timeout=10.0)
        if not report.delivered:
            logger.error(
                "could not dead-letter %s[%d]@%d: %s",
                message.topic(),
                message.partition(),
                message.offset(),
                report.error,
            )
            return False
        message_dead_lettered_record(message, error)
        logger.error(
            "dead-lettered %s[%d]@%d to %s: %s: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            topic,
            type(error).__name__,
            error,
        )
        return True

    def _mark_done(self, message: Message) -> None:
        position = message_position(message)
        self._pending[position.partition_key] = position.offset + 1

    def _rewind(self, message: Message, rewound: set[tuple[str, int]]) -> None:
        """Make the partition start again at this message (once per partition and batch)."""
        assert self._consumer is not None
        position = message_position(message)
        if position.partition_key not in rewound:
            rewound.add(position.partition_key)
            self._consumer.seek(TopicPartition(*position))

    def _pause_all(self) -> None:
        assert self._consumer is not None
        self._consecutive_pauses += 1
        delay = self._retry.pause(self._consecutive_pauses)
        self._paused_until = time.monotonic() + delay
        self._consumer.pause(self._consumer.assignment())
        logger.warning("failures persist: pausing consumption for %.0fs", delay)

    def _maybe_resume(self) -> None:
        if self._paused_until is None or time.monotonic() < self._paused_until:
            return
        assert self._consumer is not None
        self._paused_until = None
        self._consumer.resume(self._consumer.assignment())
        logger.info("resuming consumption")

    def _commit_when_due(self) -> None:
        # A synchronous commit per batch would cost a broker round trip each time; every
        # `commit_interval` a crash redelivers at most that much, which the inbox drops.
        if time.monotonic() >= self._next_commit_at:
            self._commit()
            self._next_commit_at = time.monotonic() + self._commit_interval

    def _commit(self, only: list[TopicPartition] | None = None) -> None:
        assert self._consumer is not None
        keys = {(tp.topic, tp.partition) for tp in only} if only is not None else None
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in self._pending.items()
            if keys is None or (topic, partition) in keys
        ]
        if not offsets:
            return
        try:
            if self._settings.enable_auto_commit:
                self._consumer.store_offsets(offsets=offsets)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # A rebalance or coordinator move: keep the offsets and try again after the next
            # batch; if the partition moves away, its new owner redelivers and the inbox
            # drops what was already applied.
            logger.warning("offset commit deferred: %s", exc.args[0])
            if only is None:
                return
        for tp in offsets:
            self._pending.pop((tp.topic, tp.partition), None)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._paused_until is not None:
            consumer.pause(partitions)
        logger.info("assigned %s", _describe(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._commit(only=partitions)
        logger.info("revoked %s", _describe(partitions))

    @staticmethod
    def _log_client_error(error: KafkaError) -> None:
        if error.fatal() or error.code() == KafkaError._FATAL:
            # The client cannot recover (e.g. fenced from its group): exit, so that the
            # supervisor starts a fresh consumer; uncommitted messages are redelivered.
            raise ConsumerFatalError(f"fatal Kafka error: {error}")
        logger.warning("kafka client error: %s", error)


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
