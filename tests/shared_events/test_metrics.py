"""Prometheus metrics move when events flow; /metrics serves them with the scrape-time gauges."""

import socket
import urllib.request
import uuid

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from order_service.orders.handlers import HANDLERS
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
)
from shared_events.django.consuming import event_message_process
from shared_events.django.outbox import outbox_append
from shared_events.django.relay import relay_outbox
from shared_events.errors import EventDecodeError
from shared_events.observability.metrics import metrics_server_start
from tests.order_service.factories import order_create
from tests.support.messages import event_message

pytestmark = pytest.mark.django_db


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.kafka
def test_relaying_counts_published_events_by_type(kafka_settings):
    before = _sample("saga_events_published_total", event_type="OrderCancelledIntegrationEvent")
    with transaction.atomic():
        outbox_append(
            *[OrderCancelledIntegrationEvent(order_id=uuid.uuid4()) for _ in range(3)],
            correlation_id="metrics-test",
        )

    assert relay_outbox().published >= 3

    after = _sample("saga_events_published_total", event_type="OrderCancelledIntegrationEvent")
    assert after - before >= 3


def test_consuming_counts_outcomes_and_times_processing():
    # given an order and an event about it, delivered twice, and an event with no handler here
    order = order_create()
    message, _ = event_message(
        StockLevelNormalizedIntegrationEvent(order_id=order.id), correlation_id=str(order.id)
    )
    event_type = "StockLevelNormalizedIntegrationEvent"
    applied = _sample("saga_events_consumed_total", event_type=event_type, outcome="applied")
    duplicate = _sample("saga_events_consumed_total", event_type=event_type, outcome="duplicate")
    timed = _sample("saga_event_processing_seconds_count", event_type=event_type)

    # when
    assert event_message_process(message, handlers=HANDLERS) == "applied"
    assert event_message_process(message, handlers=HANDLERS) == "duplicate"
    skipped, _ = event_message(OrderCancelledIntegrationEvent(order_id=order.id))
    assert event_message_process(skipped, handlers=HANDLERS) == "skipped"

    # then
    assert _sample("saga_events_consumed_total", event_type=event_type, outcome="applied") == (
        applied + 1
    )
    assert _sample("saga_events_consumed_total", event_type=event_type, outcome="duplicate") == (
        duplicate + 1
    )
    assert _sample("saga_event_processing_seconds_count", event_type=event_type) == timed + 2
    assert _sample("saga_event_delay_seconds_count", event_type=event_type) >= 1


def test_a_settled_saga_observes_its_duration(django_capture_on_commit_callbacks):
    from order_service.orders import services

    order = order_create()
    before = _sample("saga_order_duration_seconds_count", outcome="cancelled")
    services.order_cancel(order_id=order.id)

    with django_capture_on_commit_callbacks(execute=True):
        message, _ = event_message(
            StockLevelNormalizedIntegrationEvent(order_id=order.id), correlation_id=str(order.id)
        )
        event_message_process(message, handlers=HANDLERS)

    assert _sample("saga_order_duration_seconds_count", outcome="cancelled") == before + 1


def test_a_failing_message_is_counted_as_failed():
    from confluent_kafka import Message

    before = _sample(
        "saga_events_failed_total", event_type="unknown", stage="consume", error="EventDecodeError"
    )
    with pytest.raises(EventDecodeError):
        event_message_process(Message(topic="t", value=b"garbage"), handlers=HANDLERS)
    after = _sample(
        "saga_events_failed_total", event_type="unknown", stage="consume", error="EventDecodeError"
    )
    assert after == before + 1


@pytest.mark.kafka
def test_metrics_page_has_flow_counters_and_scrape_time_gauges(client, kafka_settings):
    order_create()  # one pending order, one unpublished outbox row

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in (
        "saga_events_published_total",
        "# TYPE saga_event_processing_seconds histogram",
        "# TYPE saga_order_duration_seconds histogram",
        "saga_outbox_pending ",
        "saga_outbox_oldest_pending_age_seconds ",
        "saga_outbox_failed ",
        'saga_orders{status="pending"}',
        "saga_kafka_up 1.0",
        "django_http_requests_total_by_method_total",
    ):
        assert name in text, name
    pending = next(line for line in text.splitlines() if line.startswith("saga_outbox_pending "))
    assert float(pending.split()[1]) >= 1


def test_a_worker_serves_its_metrics_on_its_own_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics_server_start(port, addr="127.0.0.1")

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()

    assert "saga_events_consumed_total" in text or "# HELP saga_events_consumed" in text


@pytest.mark.kafka
def test_alerts_and_dashboard_use_only_metrics_that_exist(client, kafka_settings):
    import json
    import re
    from pathlib import Path

    compose = Path(__file__).resolve().parents[2] / "compose"
    text = client.get("/metrics").content.decode()
    exposed = set(re.findall(r"^# TYPE (\w+)", text, re.M))
    exposed |= {f"{name}_{suffix}" for name in exposed for suffix in ("total", "bucket")}
    exposed |= {"saga_products", "saga_reservations"}  # the Inventory Service's
    dashboard = json.loads((compose / "grafana" / "dashboards" / "saga.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs.append((compose / "prometheus" / "alerts.yml").read_text())
    used = {m for expr in exprs for m in re.findall(r"\b((?:saga|django)_\w+)", expr)}
    assert used <= exposed, used - exposed
