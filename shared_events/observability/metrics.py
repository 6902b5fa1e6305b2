"""Prometheus metrics of the event flow.

Counters and histograms live in the process that does the work (web, Celery worker,
consumer). With `PROMETHEUS_MULTIPROC_DIR` set, every process of a service writes to that
folder and the web `/metrics` page adds them all up (prometheus-client's multiprocess
mode); `metrics_server_start` serves one process on its own port instead.

Gauges that describe shared state (outbox backlog, dead letters, consumer lag, orders by
status) are computed when `/metrics` is scraped, by the collectors in
`SAGA_METRICS_COLLECTORS`, so every scrape reads the database and the broker once.
"""

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from confluent_kafka import Message
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from shared_events.headers import EVENT_TYPE, header_value, message_headers
from shared_events.registry import CONTRACTS

logger = logging.getLogger(__name__)

_KNOWN_TYPES = frozenset(event_type for event_type, _version in CONTRACTS)
# From milliseconds (one handler) to minutes (a backlog after an outage).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
SAGA_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

EVENTS_PUBLISHED = Counter(
    "saga_events_published", "Events Kafka acknowledged from the outbox.", ["event_type"]
)
EVENTS_CONSUMED = Counter(
    "saga_events_consumed",
    "Events a consumer finished: applied, duplicate (already applied) or skipped "
    "(no handler in this service).",
    ["event_type", "outcome"],
)
EVENTS_FAILED = Counter(
    "saga_events_failed",
    "Failed attempts: stage=publish (relay, Kafka did not acknowledge) or "
    "stage=consume (handler raised; retried or dead-lettered).",
    ["event_type", "stage", "error"],
)
EVENTS_DEAD_LETTERED = Counter(
    "saga_events_dead_lettered",
    "Messages a consumer sent to a dead-letter topic.",
    ["event_type", "error", "topic"],
)
EVENT_BATCHES_SPLIT = Counter(
    "saga_event_batches_split",
    "Consumed batches that failed as a whole and were applied again one event at a time.",
    ["error"],
)
EVENT_PROCESSING_SECONDS = Histogram(
    "saga_event_processing_seconds",
    "Time a consumer spent on one event (decode, handler and inbox transaction).",
    ["event_type"],
    buckets=LATENCY_BUCKETS,
)
EVENT_DELAY_SECONDS = Histogram(
    "saga_event_delay_seconds",
    "From an event's occurred_at to the end of its processing by a consumer.",
    ["event_type"],
    buckets=LATENCY_BUCKETS,
)
SAGA_DURATION_SECONDS = Histogram(
    "saga_order_duration_seconds",
    "From an order's creation to each outcome of its saga (confirmed, rejected, cancelled, "
    "shipped).",
    ["outcome"],
    buckets=SAGA_BUCKETS,
)


def event_type_label(event_type: str | bytes | None) -> str:
    """The label for an event type; anything unregistered is `unknown` (bounded cardinality)."""
    if isinstance(event_type, bytes):
        event_type = event_type.decode(errors="replace")
    return event_type if event_type in _KNOWN_TYPES else "unknown"


def message_event_type(message: Message) -> str:
    event_type = header_value(message_headers(message), EVENT_TYPE)
    return "unknown" if event_type is None else event_type_label(event_type)


def events_published_record(event_types: Iterable[str], failed: Iterable[str] = ()) -> None:
    """Count what the relay got acknowledged, and what it did not."""
    for event_type in event_types:
        EVENTS_PUBLISHED.labels(event_type_label(event_type)).inc()
    for event_type in failed:
        EVENTS_FAILED.labels(event_type_label(event_type), "publish", "delivery").inc()


def message_dead_lettered_record(message: Message, error: BaseException) -> None:
    EVENTS_DEAD_LETTERED.labels(
        message_event_type(message), type(error).__name__, message.topic()
    ).inc()


# --- exposition ------------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """Every process's counters when in multiprocess mode, else this process's."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def metrics_text(collectors: Iterable[Collector] = ()) -> bytes:
    """The Prometheus text exposition: process metrics plus scrape-time collectors."""
    scraped = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        scraped.register(collector)
    return generate_latest(process_registry()) + generate_latest(scraped)


def metrics_server_start(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve this process's metrics (or the multiprocess folder's) on their own port."""
    start_http_server(port, addr=addr, registry=process_registry())
    logger.info("metrics on :%d/metrics", port)


# --- scrape-time collectors --------------------------------------------------------------


class CachedCollector:
    """Compute at most every `ttl` seconds: scrapes stay cheap for the database and broker."""

    ttl = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._at = 0.0

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._at > self.ttl:
                try:
                    self._cached = list(self.compute())
                except Exception:
                    logger.warning("%s failed", type(self).__name__, exc_info=True)
                    self._cached = []
                self._at = time.monotonic()
            yield from self._cached

    def describe(self) -> list[Metric]:
        return []

    def compute(self) -> Iterable[Metric]:
        raise NotImplementedError


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def labelled_gauge(
    name: str, documentation: str, labels: list[str], rows: Iterable[tuple[Any, ...]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, value in rows:
        family.add_metric([str(v) for v in values], value)
    return family
