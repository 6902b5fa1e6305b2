"""Reading and writing real topics from tests."""

import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, Message, Producer

from shared_events.kafka.config import KafkaSettings


def read_topic(
    settings: KafkaSettings,
    topic: str,
    *,
    until: Callable[[list[Message]], bool],
    timeout: float = 30.0,
) -> list[Message]:
    """Read `topic` from the beginning with a throw-away group until `until(messages)` holds."""
    consumer = Consumer(
        {
            **settings.client_config(),
            "group.id": f"test-reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(messages):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"condition not met on {topic} within {timeout}s;"
                    f" read {len(messages)} message(s)"
                )
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                messages.append(message)
    finally:
        consumer.close()
    return messages


def produce_raw(
    settings: KafkaSettings,
    topic: str,
    value: bytes,
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    partition: int = -1,  # -1: the partitioner chooses
) -> None:
    producer = Producer(settings.client_config())
    producer.produce(topic, value=value, key=key, headers=headers or [], partition=partition)
    assert producer.flush(10) == 0, "message not acknowledged"


def header(message: Message, name: str) -> str | None:
    for key, value in message.headers() or []:
        if key == name:
            return value.decode()
    return None
