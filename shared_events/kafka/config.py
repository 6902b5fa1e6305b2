"""Kafka client configuration, read from the environment (the seed's KafkaSettings keys)."""

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
DAY_MS = 24 * 60 * 60 * 1000


@dataclasses.dataclass(frozen=True)
class KafkaSettings:
    """Connection and topic settings shared by producers, consumers and admin clients."""

    bootstrap_servers: str = "localhost:9092"
    enable_auto_commit: bool = False
    auto_commit_interval_ms: int = 5000
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = ""
    namespace: str = ""
    topic_partitions: int = 6
    topic_replication_factor: int = 1
    # Set on the topics this project creates. Kafka deletes a segment once its newest record
    # is past retention, so a record may live up to retention + segment time.
    topic_retention_ms: int = 7 * DAY_MS
    topic_segment_ms: int = DAY_MS
    # The broker's `offsets.retention.minutes` (Kafka's default): declared here, because a
    # consumer group's committed offsets are dropped that long after it last had members.
    offsets_retention_minutes: int = 7 * 24 * 60

    @property
    def message_lifetime_ms(self) -> int:
        """How long a message may stay on a topic, at most."""
        return self.topic_retention_ms + self.topic_segment_ms

    def topic_config(self) -> dict[str, str]:
        """The configuration of the topics this project creates."""
        return {
            "min.insync.replicas": str(min(2, self.topic_replication_factor)),
            "retention.ms": str(self.topic_retention_ms),
            "segment.ms": str(self.topic_segment_ms),
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **defaults: Any) -> "KafkaSettings":
        """Read `KAFKA_*` variables; keyword arguments override the class defaults."""
        base = dataclasses.replace(cls(), **defaults)

        def get(name: str, default: Any) -> Any:
            raw = environ.get(f"KAFKA_{name.upper()}")
            if raw is None or raw == "":
                return default
            if isinstance(default, bool):
                return raw.strip().lower() in _TRUE
            if isinstance(default, int):
                return int(raw)
            return raw

        return cls(**{f.name: get(f.name, getattr(base, f.name)) for f in dataclasses.fields(cls)})

    def client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password
        return config

    def producer_config(self) -> dict[str, Any]:
        return {
            **self.client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "compression.type": "lz4",
            # Bounded so that the relay learns of an unreachable broker and backs off.
            "message.timeout.ms": 15_000,
        }

    def consumer_config(self, group_id: str, *, instance_id: str = "") -> dict[str, Any]:
        config = {
            **self.client_config(),
            "group.id": group_id,
            "enable.auto.commit": self.enable_auto_commit,
            "auto.commit.interval.ms": self.auto_commit_interval_ms,
            # Offsets are stored only after an event's transaction commits.
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "enable.partition.eof": False,
            # A crashed member's partitions move on after 10 s rather than 45 s.
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 3_000,
        }
        if instance_id:
            # Static membership: a restarted process takes its partitions back at once.
            config["group.instance.id"] = instance_id
        return config
