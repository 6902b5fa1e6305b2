"""Batch publishing with per-message delivery reports."""

import dataclasses
import logging
from collections.abc import Callable, Sequence

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from shared_events.headers import Headers
from shared_events.kafka.config import KafkaSettings

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


# Errors that no retry can fix: the message itself is unacceptable. A refused ACL is not
# one of them: an operator fixes the grant, and the rows must still be there to drain.
PERMANENT_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError._INVALID_ARG,
    }
)


@dataclasses.dataclass
class DeliveryReport:
    delivered: bool = False
    error: str = "no delivery report before the flush timeout"
    # False for an unreachable or slow broker: the same message may go through later.
    permanent: bool = False

    def fail(self, error: KafkaError) -> None:
        self.delivered = False
        self.error = str(error)
        self.permanent = error.code() in PERMANENT_ERRORS


class EventProducer:
    """An idempotent producer that sends a batch and waits for Kafka to acknowledge it."""

    def __init__(
        self, settings: KafkaSettings, *, client: Producer | None = None, **overrides: object
    ) -> None:
        # `client` replaces the Kafka client, e.g. with a fake in unit tests.
        self._producer = client or Producer({**settings.producer_config(), **overrides})

    def publish_batch(
        self, messages: Sequence[OutgoingMessage], *, timeout: float = 20.0
    ) -> list[DeliveryReport]:
        """Produce every message, flush once, and report each one's delivery."""
        reports = [DeliveryReport() for _ in messages]

        def on_delivery(report: DeliveryReport) -> Callable[[KafkaError | None, Message], None]:
            def callback(err: KafkaError | None, _msg: Message) -> None:
                if err is None:
                    report.delivered, report.error = True, ""
                else:
                    report.fail(err)

            return callback

        for message, report in zip(messages, reports, strict=True):
            while True:
                try:
                    self._producer.produce(
                        message.topic,
                        value=message.value,
                        key=message.key,
                        headers=message.headers,
                        on_delivery=on_delivery(report),
                    )
                    break
                except KafkaException as exc:  # refused before it was queued
                    report.fail(exc.args[0])
                    break
                except BufferError:
                    # Local queue full: serve delivery reports to make room.
                    self._producer.poll(0.05)
        remaining = self._producer.flush(timeout)
        if remaining:
            logger.warning("kafka flush left %d message(s) unacknowledged", remaining)
        return reports

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
