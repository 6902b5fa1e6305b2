"""Figure 1, the ceiling: confluent-kafka alone, with the relay's producer settings.

Measured inside each relay run (same process, same envelopes, same broker state): the
rows the relay is about to drain are read from the outbox and produced to a topic of
their own, once with a single flush and once flushed every 1,000 messages (the relay's
batch shape), then read back by a bare consumer. `summarize` turns those runs into
the figure.
"""

import time
import uuid
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from manage_scripts.benchmarks.stats import spread

Row = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


def raw_produce(
    config: dict[str, Any],
    topic: str,
    rows: Sequence[Row],
    *,
    flush_every: int | None = None,
    warm_up: bool = True,
) -> dict[str, Any]:
    """Produce every row with a delivery callback, flushing once (or every `flush_every`)."""
    producer = Producer(config)
    # Connect, get the idempotent producer id and the metadata before the clock starts
    # (one message to the dead-letter topic, so the topic itself holds only `rows`).
    if warm_up:
        producer.produce(f"{topic}.dlq", value=b"warm-up")
        producer.flush(30)
    producer.list_topics(topic, timeout=10)
    errors: list[str] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(str(err))

    started = time.perf_counter()
    for index, (key, value, headers) in enumerate(rows, start=1):
        while True:
            try:
                producer.produce(
                    topic, value=value, key=key, headers=headers, on_delivery=on_delivery
                )
                break
            except BufferError:
                producer.poll(0.01)
        if flush_every and index % flush_every == 0:
            producer.flush(30)
    remaining = producer.flush(60)
    elapsed = time.perf_counter() - started
    return {
        "messages": len(rows),
        "seconds": round(elapsed, 3),
        "events_per_s": round(len(rows) / elapsed, 1),
        "delivery_errors": len(errors) + remaining,
        "first_error": errors[0] if errors else "",
        "flush_every": flush_every,
    }


def raw_consume(
    client_config: dict[str, Any], topic: str, expected: int, *, timeout: float = 120.0
) -> dict[str, Any]:
    """Read `expected` messages with a fresh group; the rate excludes joining the group."""
    consumer = Consumer(
        {
            **client_config,
            "group.id": f"{topic}.raw-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    subscribed = time.perf_counter()
    consumer.subscribe([topic])
    count = 0
    first_batch = 0
    first_at = last_at = 0.0
    values: list[bytes] = []
    deadline = subscribed + timeout
    try:
        while count < expected and time.perf_counter() < deadline:
            batch = consumer.consume(1000, 0.5)
            good = [m for m in batch if not m.error()]
            if not good:
                continue
            now = time.perf_counter()
            if not first_at:
                first_at, first_batch = now, len(good)
            last_at = now
            count += len(good)
            if len(values) < 20_000:
                values.extend(m.value() for m in good[: 20_000 - len(values)])
    finally:
        consumer.close()
    steady = (count - first_batch) / (last_at - first_at) if last_at > first_at else None
    return {
        "messages": count,
        "expected": expected,
        "seconds_after_first_message": round(last_at - first_at, 3),
        "events_per_s": round(steady, 1) if steady else None,
        "events_per_s_including_group_join": round(count / (last_at - subscribed), 1)
        if last_at
        else None,
        "_values": values,
    }


def decode_rate(values: Sequence[bytes]) -> dict[str, Any]:
    """How fast the consumer's decoding (envelope + contract validation) alone runs."""
    from shared_events.registry import decode_event

    started = time.perf_counter()
    for value in values:
        decode_event(value)
    elapsed = time.perf_counter() - started
    return {
        "messages": len(values),
        "events_per_s": round(len(values) / elapsed, 1) if elapsed else None,
    }


def topic_message_count(client_config: dict[str, Any], topic: str) -> int:
    """Messages in a topic: the sum of its partitions' high watermarks (fresh topics)."""
    consumer = Consumer({**client_config, "group.id": f"watermarks-{uuid.uuid4().hex[:8]}"})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        total = 0
        for partition in metadata.topics[topic].partitions:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10
            )
            total += high
        return total
    finally:
        consumer.close()


def summarize(runs: list[dict[str, Any]], producer_config: dict[str, Any]) -> dict[str, Any]:
    """Figure 1 from the raw measurements of every relay run."""

    def values(key: str, field: str = "events_per_s") -> list[float | None]:
        return [run[key].get(field) for run in runs if key in run]

    return {
        "description": "confluent-kafka alone on the envelopes the relay then drains, same run",
        # Settings only: no secret, and no callback (the client's error_cb).
        "producer_config": {
            k: v for k, v in producer_config.items() if "sasl" not in k and not callable(v)
        },
        "producer_flush_once": spread(values("produce_flush_once"), "events/s", 0),
        "producer_flush_every_1000": spread(values("produce_flush_every_1000"), "events/s", 0),
        "consumer": spread(values("consume"), "events/s", 0),
        "consumer_including_group_join": spread(
            values("consume", "events_per_s_including_group_join"), "events/s", 0
        ),
        "decode_event_only": spread(values("decode"), "events/s", 0),
        "delivery_errors": sum(run["produce_flush_once"]["delivery_errors"] for run in runs),
        "messages_per_run": runs[0]["produce_flush_once"]["messages"] if runs else 0,
    }


def broker_warm_up(
    config: dict[str, Any], client_config: dict[str, Any], topic: str, *, messages: int
) -> dict[str, Any]:
    """Produce and read back `messages` small messages, uncounted, before any figure.

    A broker the bench has just started is still loading its coordinators and compiling
    its hot paths; without this, the first figure measures that instead of the code.
    """
    rows = [(str(i).encode(), b"x" * 600, []) for i in range(messages)]
    produced = raw_produce(config, topic, rows, flush_every=1_000)
    consumed = raw_consume(client_config, topic, messages)
    return {
        "messages": messages,
        "produce_events_per_s": produced["events_per_s"],
        "delivery_errors": produced["delivery_errors"],
        "consumed": consumed["messages"],
        "consume_events_per_s": consumed.get("events_per_s"),
    }
