"""Broker readiness and explicit topic creation."""

import functools
import logging
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from shared_events.kafka.config import KafkaSettings
from shared_events.topics import all_topics, partitions_of

logger = logging.getLogger(__name__)


_quiet = logging.getLogger("shared_events.kafka.probe")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def broker_ready(settings: KafkaSettings, *, timeout: float = 2.0) -> bool:
    """Ask the cluster for its metadata: True when a broker answers."""
    # Connection-refused noise is expected while waiting; keep it out of the logs.
    client = AdminClient(
        {**settings.client_config(), "socket.timeout.ms": int(timeout * 1000)}, logger=_quiet
    )
    return _metadata_answered(client, timeout)


def broker_answers(settings: KafkaSettings, *, timeout: float = 2.0) -> bool:
    """`broker_ready` for a long-lived process that is asked often (a readiness probe every
    second): one admin client per process and cluster, kept, so that each probe is a
    metadata request on an open connection, not a new client and connection."""
    return _metadata_answered(_probe_client(settings), timeout)


@functools.lru_cache(maxsize=4)
def _probe_client(settings: KafkaSettings) -> AdminClient:
    return AdminClient(settings.client_config(), logger=_quiet)


def _metadata_answered(client: AdminClient, timeout: float) -> bool:
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException:
        return False
    return bool(metadata.brokers)


def wait_for_broker(settings: KafkaSettings, *, timeout: float = 60.0) -> None:
    """Block until a broker answers, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while not broker_ready(settings):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no Kafka broker answered at {settings.bootstrap_servers}")
        time.sleep(0.2)


def topics_ensure(settings: KafkaSettings, topics: list[str] | None = None) -> list[str]:
    """Create the saga's topics that do not exist yet; return the names created."""
    client = AdminClient(settings.client_config())
    wanted = topics if topics is not None else all_topics(namespace=settings.namespace)
    existing = set(client.list_topics(timeout=10).topics)
    missing = [
        NewTopic(
            name,
            num_partitions=partitions_of(name, default=settings.topic_partitions),
            replication_factor=settings.topic_replication_factor,
            config=settings.topic_config(),
        )
        for name in wanted
        if name not in existing
    ]
    if not missing:
        return []
    created = []
    for name, future in client.create_topics(missing, operation_timeout=30).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    # Metadata propagates asynchronously; wait until every topic is visible.
    deadline = time.monotonic() + 30
    while not set(wanted) <= set(client.list_topics(timeout=10).topics):
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics not visible after creation: {wanted}")
        time.sleep(0.1)
    return created
