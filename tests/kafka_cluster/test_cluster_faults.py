"""The production shape under faults: brokers killed, a quorum lost, clients refused.

Every test ends with the fault suite's invariants (tests/faults/invariants.py): every order
final, stock conserved, every committed outbox event on its topic in per-order order, no
lag. Figures (orders, kills, drain time) are printed for the record (`pytest -s`).
"""

import dataclasses
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from manage_scripts.stack.kafka_cluster import certificate_authority_create, certificate_sign
from shared_events.kafka.acls import acls_grant, acls_revoke, service_acls
from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.producer import EventProducer, OutgoingMessage
from shared_events.kafka.status import cluster_status
from shared_events.topics import all_topics
from tests.faults.invariants import Ledger, assert_invariants, query
from tests.faults.load import Load, kill, port_open, product_create, wait_for
from tests.kafka_cluster.conftest import CLIENT_PORTS, ROOT, SERVICE_PASSWORDS

NODES = (1, 2, 3)


def _topics(stack) -> list[str]:
    return [
        stack.topic(t)
        for t in ("order-events", "inventory-events", "order-events.dlq", "inventory-events.dlq")
    ]


def _under_replicated(stack) -> list[str]:
    status = cluster_status(stack.kafka, topics=_topics(stack), groups=[])
    return [f"{t.name}[{p.partition}]" for t in status.topics for p in t.partitions if p.under]


def _fully_replicated(stack, timeout: float = 120.0) -> None:
    def ok() -> bool:
        try:
            return not _under_replicated(stack)
        except Exception:  # noqa: BLE001 - a node is still coming back
            return False

    wait_for(ok, "every partition back in sync on three replicas", timeout)


def _busiest_leader(stack) -> int:
    status = cluster_status(stack.kafka, topics=_topics(stack), groups=[])
    leaders = Counter(p.leader for t in status.topics for p in t.partitions)
    return leaders.most_common(1)[0][0]


def _active_controller(stack) -> int:
    result = subprocess.run(
        [
            str(ROOT / "manage_scripts" / "kafka-cli"),
            "kafka-metadata-quorum",
            "--command-config",
            str(stack.run_dir / "kafka" / "admin.properties"),
            "describe",
            "--status",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    [leader] = [line.split(":")[1] for line in result.stdout.splitlines() if "LeaderId" in line]
    return int(leader)


def _node_back(stack, node: int) -> None:
    wait_for(lambda: port_open(CLIENT_PORTS[node - 1]), f"kafka-{node} listening", 120)
    _fully_replicated(stack)


def _unpublished(stack, database: str) -> tuple[int, int]:
    """Rows waiting in the outbox, and rows parked as failed."""
    [(waiting, parked)] = query(
        stack.env[database],
        "SELECT count(*) FILTER (WHERE failed_at IS NULL), count(*) FILTER (WHERE failed_at "
        "IS NOT NULL) FROM shared_events_outboxmessage WHERE published_at IS NULL",
    )
    return waiting, parked


def _drained(stack, timeout: float = 180.0) -> float:
    """Wait until both outboxes are empty; seconds it took."""
    start = time.monotonic()
    wait_for(
        lambda: all(
            _unpublished(stack, db) == (0, 0)
            for db in ("ORDER_DATABASE_URL", "INVENTORY_DATABASE_URL")
        ),
        "both outboxes drained",
        timeout,
    )
    return time.monotonic() - start


def _as_service(stack, service: str, **changes: str) -> KafkaSettings:

    settings = dataclasses.replace(
        stack.kafka,
        sasl_username=f"{service}-service",
        sasl_password=SERVICE_PASSWORDS[service],
    )
    return dataclasses.replace(settings, **changes)


def _send(settings: KafkaSettings, topic: str, **overrides: object) -> str:
    """Publish one message; the delivery error ('' once delivered)."""
    producer = EventProducer(settings, **{"message.timeout.ms": 8000, **overrides})
    try:
        message = OutgoingMessage(topic=topic, key=b"k", value=b"{}", headers=[])
        [report] = producer.publish_batch([message], timeout=15)
    finally:
        producer.close()
    return report.error


# --- clients refused --------------------------------------------------------------------


def test_credentials_refused_with_one_clear_line(stack, caplog):
    # given the saga's topics and the order service's ACLs in a namespace of this test's own
    # (what a refused client might still write must not reach the stack's consumers)
    caplog.set_level(logging.ERROR, logger="shared_events.kafka.config")
    namespace = f"refusals-{uuid.uuid4().hex[:6]}."
    topics_ensure(stack.kafka, all_topics(namespace=namespace))
    acls_grant(
        stack.kafka, service_acls("order", principal="User:order-service", namespace=namespace)
    )
    own, other = f"{namespace}order-events", f"{namespace}inventory-events"

    # a client without credentials: refused before it connects, saying why ...
    with pytest.raises(KafkaException, match=r"sasl\.username and sasl\.password must be set"):
        _send(_as_service(stack, "order", sasl_username="", sasl_password=""), own)
    # ... and one that skips SASL altogether (TLS only) is cut off by the brokers
    tls_only = _as_service(stack, "order", security_protocol="SSL", sasl_mechanism="")
    errors = {"TLS without SASL": _send(tls_only, own)}
    # a wrong password
    errors["wrong password"] = _send(_as_service(stack, "order", sasl_password="wrong"), own)
    # the order service writing the inventory service's topic
    errors["other's topic"] = _send(_as_service(stack, "order"), other)
    lines = [r.getMessage() for r in caplog.records]
    print("refusals:", errors, *lines, sep="\n  ")

    assert all(errors.values()), f"a refused client got through: {errors}"
    assert "Topic authorization failed" in errors["other's topic"], errors
    refusals = [line for line in lines if line.startswith("kafka refused this client")]
    [wrong_password] = refusals  # one line, not one per reconnection
    assert "authentication failed" in wrong_password and "invalid credentials" in wrong_password
    # and the right user may write its own topic
    assert _send(_as_service(stack, "order"), own) == ""


def test_a_broker_certificate_not_signed_by_the_trusted_ca_is_refused(stack, caplog):
    caplog.set_level(logging.ERROR, logger="shared_events.kafka.config")
    with tempfile.TemporaryDirectory() as tmp:
        rogue = Path(tmp) / "rogue-ca.crt"
        certificate_authority_create(Path(tmp) / "rogue-ca.key", rogue, "not the project's CA")
        error = _send(_as_service(stack, "order", ssl_ca_location=str(rogue)), stack.topic("x"))
    lines = [r.getMessage() for r in caplog.records]
    print("untrusted broker:", error, *lines, sep="\n  ")
    assert error
    assert any("TLS handshake failed" in line for line in lines), lines


def test_granted_users_get_exactly_their_acls_and_a_monitor_writes_nothing(stack):
    # given two new users, granted by the operator's command as compose's setup grants them,
    # in a namespace of this test's own (its messages must not reach the stack's consumers)
    suffix = uuid.uuid4().hex[:6]
    service_user, monitor = f"order-{suffix}", f"monitor-{suffix}"
    namespace = f"granted-{suffix}."
    topics_ensure(stack.kafka, all_topics(namespace=namespace))
    admin = AdminClient(stack.kafka.client_config())
    upserts = [
        UserScramCredentialUpsertion(
            user, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), b"pw-" + user.encode()
        )
        for user in (service_user, monitor)
    ]
    for future in admin.alter_user_scram_credentials(upserts).values():
        future.result()
    subprocess.run(
        [sys.executable, str(ROOT / "order_service" / "manage.py"), "grant_kafka_acls",
         "--service", f"order={service_user}", "--monitor", monitor],
        env={
            **os.environ,
            **stack.env,
            "DJANGO_SETTINGS_MODULE": "order_service.settings.dev",
            "KAFKA_NAMESPACE": namespace,
        },
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip

    def as_user(user: str) -> KafkaSettings:
        return dataclasses.replace(stack.kafka, sasl_username=user, sasl_password=f"pw-{user}")

    own, other = f"{namespace}order-events", f"{namespace}inventory-events"
    # then the service's user writes its own topic and not the other's ...
    assert _send(as_user(service_user), own) == ""
    assert "Topic authorization failed" in _send(as_user(service_user), other)
    # ... and the monitor describes and reads every topic but writes none
    metadata = AdminClient(as_user(monitor).client_config()).list_topics(timeout=30)
    assert {own, other} <= set(metadata.topics)
    assert not metadata.topics[other].error
    consumer = Consumer({**as_user(monitor).client_config(), "group.id": f"monitor-{suffix}"})
    try:
        consumer.assign([TopicPartition(own, p, OFFSET_BEGINNING) for p in range(6)])
        read = [m for m in consumer.consume(50, timeout=15) if m and not m.error()]
    finally:
        consumer.close()
    assert read, "the monitor read nothing from a topic with messages"
    # (not idempotent: without any write grant, an idempotent producer is refused its
    # producer id first, a fatal error of its own, before any topic is asked)
    assert "Topic authorization failed" in _send(
        as_user(monitor), own, **{"enable.idempotence": False}
    )


def test_a_client_certificate_from_the_ca_names_its_principal_and_another_cas_is_refused(
    stack, caplog
):
    # given client certificates for CN=order-service, one signed by the cluster's CA and one
    # by another CA, used on the nodes' mutual-TLS listener (a certificate is required there)
    caplog.set_level(logging.ERROR, logger="shared_events.kafka.config")
    ca = Path(stack.kafka.ssl_ca_location)
    mutual_tls = ",".join(f"127.0.0.1:{port + 200}" for port in CLIENT_PORTS)
    # in a namespace of this test's own, where User:order-service has the order service's ACLs
    namespace = f"mtls-{uuid.uuid4().hex[:6]}."
    topics_ensure(stack.kafka, all_topics(namespace=namespace))
    acls_grant(
        stack.kafka, service_acls("order", principal="User:order-service", namespace=namespace)
    )
    own, other = f"{namespace}order-events", f"{namespace}inventory-events"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        certificate_authority_create(folder / "rogue.key", folder / "rogue.crt", "another CA")
        for name, (ca_key, ca_crt) in {
            "trusted": (ca.with_name("ca.key"), ca),
            "rogue": (folder / "rogue.key", folder / "rogue.crt"),
        }.items():
            certificate_sign(
                ca_key, ca_crt, folder / f"{name}-client.key", folder / f"{name}-client.crt",
                common_name="order-service", hosts=("localhost",),
            )  # fmt: skip

        def with_certificate(name: str) -> KafkaSettings:
            return dataclasses.replace(
                stack.kafka,
                bootstrap_servers=mutual_tls,
                security_protocol="SSL",
                sasl_mechanism="",
                sasl_username="",
                sasl_password="",
                ssl_certificate_location=str(folder / f"{name}-client.crt"),
                ssl_key_location=str(folder / f"{name}-client.key"),
            )

        # then the CA's certificate logs in as User:order-service, with that user's ACLs ...
        delivered = _send(with_certificate("trusted"), own)
        not_its_topic = _send(with_certificate("trusted"), other)
        # ... and the other CA's certificate is refused in the handshake
        refused = _send(with_certificate("rogue"), own)
    lines = [r.getMessage() for r in caplog.records]
    print("client certificates:", delivered, not_its_topic, refused, *lines, sep="\n  ")
    assert delivered == ""
    assert "Topic authorization failed" in not_its_topic
    assert refused
    assert any("TLS handshake failed" in line for line in lines), lines


# --- a revoked ACL ------------------------------------------------------------------------


def test_a_revoked_acl_backs_the_relay_off_without_parking(stack, orders, inventory):
    # given the order service's right to write its topic revoked
    ledger = Ledger(stack)
    sku = product_create(inventory, 1000)
    write = [
        b
        for b in service_acls("order", principal="User:order-service", namespace=stack.namespace)
        if b.name == stack.topic("order-events")
    ]
    relay_log = stack.run_dir / "logs" / "order-relay.log"
    refused_before = _refusals(relay_log)
    acls_revoke(stack.kafka, write)
    try:
        # when orders are placed
        for _ in range(5):
            response = orders.post(
                "/api/orders/",
                {"customer_id": ledger.customer_id, "lines": [{"sku": sku, "quantity": 1}]},
            )
            assert response.status_code == 201, response.text
            ledger.placed(response.json()["id"], sku=sku, expected={"confirmed"})

        # then the relay tries, keeps the error and backs off, past OUTBOX_MAX_ATTEMPTS
        def tried_twice() -> bool:
            [(rows,)] = query(
                stack.env["ORDER_DATABASE_URL"],
                "SELECT count(*) FROM shared_events_outboxmessage WHERE published_at IS NULL "
                "AND attempts >= 3 AND last_error ILIKE %s",
                ("%authoriz%",),
            )
            return rows >= 5

        wait_for(tried_twice, "the relay tried each row three times", timeout=120)
        waiting, parked = _unpublished(stack, "ORDER_DATABASE_URL")
        refused = _refusals(relay_log)[len(refused_before) :]
        print(f"revoked ACL: {waiting} row(s) waiting, {parked} parked", *refused[:1])
        assert parked == 0 and waiting >= 5
        assert refused, "the relay did not say that Kafka refused it"
    finally:
        acls_grant(stack.kafka, write)

    # and once the grant is back everything drains by itself
    drain = _drained(stack)
    print(f"revoked ACL: {len(ledger)} orders, drained {drain:.1f}s after the grant")
    assert_invariants(stack, ledger)


def _refusals(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if "TOPIC_AUTHORIZATION_FAILED" in line]


# --- brokers killed -----------------------------------------------------------------------


# Six restarts of a JVM, each followed by its replicas catching up: minutes, not seconds.
@pytest.mark.timeout(900)
def test_leaders_killed_rolling_restart_and_controller_killed_under_load(stack, orders, inventory):
    ledger = Ledger(stack)
    skus = [product_create(inventory, 100_000)]
    figures = []
    started = time.monotonic()
    with Load(orders, ledger, skus, rate=5) as load:
        load.wait_until_placed(10)
        # when the node leading the most partitions is SIGKILLed, twice: the second kill
        # hits the leaders the first one moved
        for _ in range(2):
            node = _busiest_leader(stack)
            outage = kill(stack, f"infra:kafka-{node}", timeout=120)
            _node_back(stack, node)
            figures.append(f"leader kafka-{node}: {outage}")
            print(figures[-1])
        # then each node is restarted cleanly in turn
        for node in NODES:
            begin = time.monotonic()
            stack.supervise("restart", f"infra:kafka-{node}")
            _node_back(stack, node)
            figures.append(f"rolling restart kafka-{node}: {time.monotonic() - begin:.1f}s")
            print(figures[-1])
        # then the active controller is killed
        node = _active_controller(stack)
        outage = kill(stack, f"infra:kafka-{node}", timeout=120)
        _node_back(stack, node)
        figures.append(f"active controller kafka-{node}: {outage}")
        load.wait_until_placed(len(ledger) + 10)
    drain = _drained(stack)
    print(
        f"leaders: {len(ledger)} orders in {time.monotonic() - started:.0f}s, "
        f"{load.retries} HTTP retries, drained in {drain:.1f}s",
        *figures,
        sep="\n  ",
    )
    assert_invariants(stack, ledger, republish_expected=True)


@pytest.mark.timeout(600)
def test_two_of_three_nodes_down_holds_in_the_outbox_and_drains(stack, orders, inventory):
    ledger = Ledger(stack)
    skus = [product_create(inventory, 100_000)]
    with Load(orders, ledger, skus, rate=5) as load:
        load.wait_until_placed(5)
        # when two of the three nodes stop (no quorum, no in-sync minimum)
        stack.supervise("stop", "infra:kafka-2", "infra:kafka-3")
        down_at = time.time()
        before = len(ledger)
        load.wait_until_placed(before + 60, timeout=120)
        # then the API kept taking orders, and their events wait in the outbox, none parked
        waiting, parked = _unpublished(stack, "ORDER_DATABASE_URL")
        print(f"two down: {len(ledger) - before} orders taken, {waiting} waiting, {parked} parked")
        assert waiting > 0 and parked == 0
        # when one node returns
        stack.supervise("start", "infra:kafka-2")
        up_at = time.time()
        load.wait_until_placed(len(ledger) + 10)
    drain = _drained(stack)
    stack.supervise("start", "infra:kafka-3")
    _node_back(stack, 3)
    print(
        f"two down: {len(ledger)} orders, {up_at - down_at:.0f}s with two nodes down, "
        f"drained {drain:.1f}s after the load stopped"
    )
    _, parked = _unpublished(stack, "ORDER_DATABASE_URL")
    assert parked == 0
    assert_invariants(stack, ledger, retries_expected=True, republish_expected=True)
