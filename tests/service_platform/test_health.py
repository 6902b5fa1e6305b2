"""Liveness and readiness, against the real PostgreSQL, Redis and Kafka, and a broker that
comes and goes (a throwaway one: the shared broker is never stopped)."""

import dataclasses
import os
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from manage_scripts.stack.probes import wait_until
from service_platform import health
from shared_events.django.conf import events_config
from shared_events.kafka import admin
from tests.support.throwaway_kafka import ThrowawayKafka, free_port_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def kafka_at():
    """Point the service's Kafka settings at another bootstrap address."""
    from django.conf import settings

    overrides = []

    def point(bootstrap: str) -> None:
        override = override_settings(
            KAFKA=dataclasses.replace(settings.KAFKA, bootstrap_servers=bootstrap)
        )
        override.enable()
        overrides.append(override)
        events_config.cache_clear()

    yield point
    for override in reversed(overrides):
        override.disable()
    events_config.cache_clear()


def _ready(client) -> tuple[int, dict]:
    response = client.get("/health/ready")
    return response.status_code, response.json()


def test_liveness_answers_without_authentication(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_checks_postgres_redis_and_kafka(client):
    status, body = _ready(client)
    assert status == 200, body
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "kafka": "ok"}}


def test_readiness_is_503_while_redis_is_unreachable(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        status, body = _ready(client)
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("ConnectionError") and body["checks"]["kafka"] == "ok"


@pytest.mark.kafka
def test_readiness_is_503_while_the_broker_is_down_and_200_when_it_returns(client, kafka_at):
    # given the service pointed at a port where no broker runs yet
    port = free_port_pair()
    broker = ThrowawayKafka(Path(tempfile.mkdtemp(prefix="ready-kafka-")), port)
    kafka_at(broker.bootstrap)
    try:
        status, body = _ready(client)
        assert status == 503
        assert body["checks"]["kafka"] != "ok" and body["checks"]["database"] == "ok"

        # when the broker starts, readiness turns 200
        broker.start()
        wait_until("readiness with the broker up", lambda: _ready(client)[0] == 200, timeout=90)

        # when it stops, 503 again
        broker.stop()
        wait_until("a 503 once the broker stopped", lambda: _ready(client)[0] == 503, timeout=30)

        # and when it returns, 200 again
        broker.start()
        wait_until("readiness once it returned", lambda: _ready(client)[0] == 200, timeout=90)
    finally:
        broker.close()


def test_readiness_probes_reuse_one_redis_connection(client):
    from django.conf import settings

    def probe_connections() -> list[str]:
        connections = health.celery_broker(settings.CELERY_BROKER_URL).client_list()
        return [c["id"] for c in connections if c["name"] == f"readiness-probe-{os.getpid()}"]

    # given one probe
    assert _ready(client)[0] == 200
    first = probe_connections()

    # when the gateway probes readiness again and again
    statuses = [_ready(client)[0] for _ in range(5)]

    # then every probe used the same Redis connection, not one of its own
    assert statuses == [200] * 5
    assert len(first) == 1 and probe_connections() == first


@pytest.mark.kafka
def test_readiness_probes_ask_the_broker_on_one_kept_client(client, monkeypatch):
    # given a count of the Kafka admin clients made
    made = []
    real = admin.AdminClient

    def counted(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(admin, "AdminClient", counted)
    admin._probe_client.cache_clear()

    # when the gateway probes readiness again and again
    statuses = [_ready(client)[0] for _ in range(5)]

    # then every probe asked the broker, through one client kept for the process
    assert statuses == [200] * 5
    assert len(made) == 1
