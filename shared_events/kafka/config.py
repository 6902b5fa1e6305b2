"""Kafka client configuration, read from the environment (the seed's KafkaSettings keys)."""

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError

_TRUE = {"1", "true", "yes", "on"}
DAY_MS = 24 * 60 * 60 * 1000
logger = logging.getLogger(__name__)

# A client the cluster will not let in: the operator must act, so say so once, plainly.
_REFUSALS = {
    KafkaError._AUTHENTICATION: "authentication failed (wrong or missing SASL credentials)",
    KafkaError.SASL_AUTHENTICATION_FAILED: "authentication failed (wrong SASL credentials)",
    KafkaError._SSL: "TLS handshake failed (certificate not trusted, or not a TLS listener)",
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "not authorised for a topic (missing ACL)",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "not authorised for its group (missing ACL)",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "not authorised on the cluster (missing ACL)",
}


# A broker that requires a client certificate ends the handshake with a TLS alert, which
# the client sees as a broken connection, not as a TLS error of its own.
_CERTIFICATE_REFUSED = "TLS handshake failed (the brokers refused this client's certificate)"
_CERTIFICATE_ALERTS = ("alert bad certificate", "alert certificate required")


def refusal_of(error: KafkaError) -> str | None:
    """What a client-side error says about the cluster refusing this client, if anything."""
    if error.code() == KafkaError._TRANSPORT and any(
        alert in error.str() for alert in _CERTIFICATE_ALERTS
    ):
        return _CERTIFICATE_REFUSED
    return _REFUSALS.get(error.code())


def refusal_logger() -> Callable[[KafkaError], None]:
    """An `error_cb` that logs each kind of refusal one line, once per client."""
    said: set[str] = set()

    def on_error(error: KafkaError) -> None:
        what = refusal_of(error)
        if what is None or what in said:
            return
        said.add(what)
        logger.error("kafka refused this client: %s: %s", what, error.str())

    return on_error


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
    # PEM files: the CA that signed the brokers' certificates (hostnames are verified), and
    # for mutual TLS this client's own certificate and key.
    ssl_ca_location: str = ""
    ssl_certificate_location: str = ""
    ssl_key_location: str = ""
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

    @classmethod
    def from_properties(cls, path: str, **defaults: Any) -> "KafkaSettings":
        """Read a Kafka CLI `--command-config` file (the `admin.properties` that `up` writes):
        bootstrap servers, security protocol, SASL login and a PEM trust store."""
        props = {}
        for line in Path(path).read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.lstrip().startswith(("#", "!")):
                props[key.strip()] = value.strip()
        login = dict(
            re.findall(r'(username|password)="([^"]*)"', props.get("sasl.jaas.config", ""))
        )
        return dataclasses.replace(
            cls(**defaults),
            bootstrap_servers=props.get("bootstrap.servers", cls.bootstrap_servers),
            security_protocol=props.get("security.protocol", "PLAINTEXT"),
            sasl_mechanism=props.get("sasl.mechanism", "") if login else "",
            sasl_username=login.get("username", ""),
            sasl_password=login.get("password", ""),
            ssl_ca_location=props.get("ssl.truststore.location", ""),
        )

    def client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "error_cb": refusal_logger(),
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password
        tls = {
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
        }
        config.update({key: value for key, value in tls.items() if value})
        if "SSL" in self.security_protocol.upper():
            config["ssl.endpoint.identification.algorithm"] = "https"
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
