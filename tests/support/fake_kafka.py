"""An in-memory Kafka at the client boundary: what the relay and the consumer loop call on
confluent-kafka's Producer and Consumer, and nothing more.

`FakeBroker` keeps each partition's messages in a list; `FakeProducer` appends to it and
serves delivery reports on flush (or fails them as told); `FakeConsumer` reads it from a
position per partition, with seek, pause, resume and commits, and assigns every partition
of its topics on the first poll, as a group of one would. Unit tests of the relay and of
the consumer loop's logic run on them in milliseconds; the real broker keeps the
integration, end-to-end and fault tests.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

Partition = tuple[str, int]
Headers = list[tuple[str, Any]]


class FakeBroker:
    """Partition logs shared by the fake clients of one test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logs: dict[Partition, list[Message]] = {}

    def append(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: Headers | None = None,
        partition: int = 0,
    ) -> Message:
        with self.lock:
            log = self.logs.setdefault((topic, partition), [])
            message = Message(
                topic=topic,
                partition=partition,
                offset=len(log),
                key=key,
                value=value,
                headers=headers or [],
            )
            log.append(message)
            return message

    def append_error(self, topic: str, error: KafkaError, *, partition: int = 0) -> None:
        """Put a client error in the way, as librdkafka returns them from poll."""
        with self.lock:
            log = self.logs.setdefault((topic, partition), [])
            log.append(Message(topic=topic, partition=partition, offset=len(log), error=error))

    def values(self, topic: str, partition: int = 0) -> list[bytes | None]:
        with self.lock:
            return [m.value() for m in self.logs.get((topic, partition), [])]

    def messages(self, topic: str, partition: int = 0) -> list[Message]:
        with self.lock:
            return list(self.logs.get((topic, partition), []))


DeliveryCallback = Callable[[KafkaError | None, Message], None]


class FakeProducer:
    """confluent_kafka.Producer's produce, poll and flush.

    `fail(topic, value)` returns the error a message's delivery report carries, or None to
    deliver it; `refuse` the error produce() raises before queueing it. With
    `acknowledge=False` no delivery report comes before the flush times out. `queue_size`
    makes produce() raise BufferError while that many messages wait for a report.
    """

    def __init__(
        self,
        broker: FakeBroker,
        *,
        fail: Callable[[str, bytes], KafkaError | None] = lambda topic, value: None,
        refuse: Callable[[str, bytes], KafkaError | None] = lambda topic, value: None,
        acknowledge: bool = True,
        queue_size: int | None = None,
    ) -> None:
        self.broker = broker
        self.fail = fail
        self.refuse = refuse
        self.acknowledge = acknowledge
        self.queue_size = queue_size
        self.queued: list[tuple[str, bytes, bytes | None, Headers, DeliveryCallback]] = []
        self.buffer_errors = 0
        self.flushes = 0

    def produce(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        if self.queue_size is not None and len(self.queued) >= self.queue_size:
            self.buffer_errors += 1
            raise BufferError("Local: Queue full")
        refused = self.refuse(topic, value)
        if refused is not None:
            raise KafkaException(refused)
        self.queued.append((topic, value, key, headers or [], on_delivery or _ignore))

    def poll(self, timeout: float = 0) -> int:
        return self._deliver()

    def flush(self, timeout: float = 0) -> int:
        self.flushes += 1
        self._deliver()
        return len(self.queued)

    def _deliver(self) -> int:
        if not self.acknowledge:
            return 0
        delivered, self.queued = self.queued, []
        for topic, value, key, headers, callback in delivered:
            error = self.fail(topic, value)
            if error is None:
                callback(None, self.broker.append(topic, value, key=key, headers=headers))
            else:
                callback(error, Message(topic=topic, key=key, value=value, error=error))
        return len(delivered)


def _ignore(_error: KafkaError | None, _message: Message) -> None:
    pass


class FakeConsumer:
    """confluent_kafka.Consumer as the consumer loop uses it, for a group of one member."""

    def __init__(self, broker: FakeBroker, *, fail_commits: int = 0) -> None:
        self.broker = broker
        self.fail_commits = fail_commits
        self.config: dict[str, Any] = {}
        self.topics: list[str] = []
        self.on_assign: Callable[[Any, list[TopicPartition]], None] | None = None
        self.assigned: list[Partition] = []
        self.position: dict[Partition, int] = {}
        self.paused: set[Partition] = set()
        self.committed: dict[Partition, int] = {}
        self.commits: list[dict[Partition, int]] = []
        self.pauses = 0
        self.resumes = 0
        self.closed = False

    def __call__(self, config: dict[str, Any]) -> "FakeConsumer":
        """Stand in for the Consumer class: `ConsumerLoop(new_consumer=fake)`."""
        self.config = config
        return self

    def subscribe(
        self,
        topics: list[str],
        on_assign: Callable[[Any, list[TopicPartition]], None] | None = None,
        on_revoke: Callable[[Any, list[TopicPartition]], None] | None = None,
    ) -> None:
        self.topics = topics
        self.on_assign = on_assign

    def poll(self, timeout: float | None = None) -> Message | None:
        self._assign_once()
        [message] = self._take(1) or [None]
        if message is None:
            time.sleep(min(timeout or 0, 0.005))
        return message

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        return self._take(num_messages)

    def seek(self, partition: TopicPartition) -> None:
        self.position[(partition.topic, partition.partition)] = partition.offset

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.pauses += 1
        self.paused |= {(tp.topic, tp.partition) for tp in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.resumes += 1
        self.paused -= {(tp.topic, tp.partition) for tp in partitions}

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(topic, partition) for topic, partition in self.assigned]

    def commit(self, offsets: list[TopicPartition], asynchronous: bool = True) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            raise KafkaException(KafkaError(KafkaError.REBALANCE_IN_PROGRESS))
        done = {(tp.topic, tp.partition): tp.offset for tp in offsets}
        self.committed.update(done)
        self.commits.append(done)

    def store_offsets(self, offsets: list[TopicPartition]) -> None:
        self.commit(offsets)

    def close(self) -> None:
        self.closed = True

    def _assign_once(self) -> None:
        if self.assigned:
            return
        with self.broker.lock:
            for topic in self.topics:
                self.broker.logs.setdefault((topic, 0), [])
            self.assigned = sorted(p for p in self.broker.logs if p[0] in self.topics)
        for partition in self.assigned:
            self.position.setdefault(partition, self.committed.get(partition, 0))
        if self.on_assign is not None:
            self.on_assign(self, self.assignment())

    def _take(self, count: int) -> list[Message]:
        taken: list[Message] = []
        with self.broker.lock:
            for partition in self.assigned:
                if partition in self.paused:
                    continue
                log = self.broker.logs.get(partition, [])
                while len(taken) < count and self.position[partition] < len(log):
                    taken.append(log[self.position[partition]])
                    self.position[partition] += 1
        return taken
