"""Seeing and operating the running stack: health, metrics, lag, timelines, dead letters, logs."""

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.kafka import header, produce_raw, read_topic

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "e2e", "e2e-password"  # tests/e2e/conftest.py


def _until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f}s")
        time.sleep(0.2)


@pytest.fixture
def product(inventory):
    def create(quantity: int = 10) -> str:
        sku = f"OPS-{uuid.uuid4().hex[:10].upper()}"
        response = inventory.post(
            "/api/products/",
            {"sku": sku, "name": "ops", "unit_price": "5.00", "available_quantity": quantity},
        )
        assert response.status_code == 201, response.text
        return sku

    return create


def _place(orders, sku: str, quantity: int = 1) -> str:
    response = orders.post("/api/orders/", {"lines": [{"sku": sku, "quantity": quantity}]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _settled(orders, order_id: str, status: str) -> dict:
    return orders.wait_for(f"/api/orders/{order_id}/", lambda b: b["status"] == status)


def _metric(base_url: str, name: str, **labels: str) -> float:
    text = requests.get(f"{base_url}/metrics", timeout=10).text
    wanted = {f'{k}="{v}"' for k, v in labels.items()}
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if match and wanted <= set(filter(None, (match.group(1) or "").split(","))):
            total += float(match.group(2))
    return total


def _kafka_status(stack, service: str = "inventory") -> dict:
    env = {**stack.env, "DJANGO_SETTINGS_MODULE": f"{service}_service.settings.dev"}
    result = subprocess.run(
        [sys.executable, str(ROOT / f"{service}_service" / "manage.py"), "kafka_status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _group_lag(status: dict, group: str, topic: str) -> int:
    [found] = [g for g in status["groups"] if g["group"] == group]
    return sum(p["lag"] for p in found["partitions"] if p["topic"] == topic)


def test_health_and_api_docs_answer_on_both_services(stack):
    for base in (stack.order_url, stack.inventory_url):
        assert requests.get(f"{base}/health/live", timeout=10).status_code == 200
        ready = requests.get(f"{base}/health/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
        docs = requests.get(f"{base}/api/docs/", timeout=10)
        assert docs.status_code == 200 and "cdn" not in docs.text.lower()
        bundle = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs.text)
        assert bundle and requests.get(f"{base}{bundle.group(1)}", timeout=10).status_code == 200


def test_metrics_counters_move_when_events_flow(stack, orders, product):
    created = {"event_type": "OrderCreatedIntegrationEvent"}
    reserved = {"event_type": "StockReservedIntegrationEvent", "outcome": "applied"}
    before = (
        _metric(stack.order_url, "saga_events_published_total", **created),
        _metric(stack.inventory_url, "saga_events_consumed_total", **created, outcome="applied"),
        _metric(stack.order_url, "saga_events_consumed_total", **reserved),
        _metric(stack.order_url, "saga_order_duration_seconds_count", outcome="confirmed"),
    )

    _settled(orders, _place(orders, product()), "confirmed")

    after = lambda: (  # noqa: E731
        _metric(stack.order_url, "saga_events_published_total", **created),
        _metric(stack.inventory_url, "saga_events_consumed_total", **created, outcome="applied"),
        _metric(stack.order_url, "saga_events_consumed_total", **reserved),
        _metric(stack.order_url, "saga_order_duration_seconds_count", outcome="confirmed"),
    )
    _until(
        lambda: all(a >= b + 1 for a, b in zip(after(), before, strict=True)),
        timeout=20,
        what=f"counters did not move from {before}",
    )
    text = requests.get(f"{stack.order_url}/metrics", timeout=10).text
    for gauge in ("saga_outbox_pending", "saga_orders{", "saga_consumer_lag{", "saga_kafka_up 1"):
        assert gauge in text, gauge


def test_kafka_status_shows_lag_while_the_consumer_is_stopped_and_it_drains_after(
    stack, orders, product
):
    group = stack.topic("inventory-service")
    topic = stack.topic("order-events")
    sku = product(quantity=20)
    assert "stopped" in stack.supervisorctl("stop", "apps:inventory-consumer")
    try:
        base = _group_lag(_kafka_status(stack), group, topic)
        placed = [_place(orders, sku) for _ in range(3)]

        lagging = _until(
            lambda: (lag := _group_lag(_kafka_status(stack), group, topic)) >= base + 3 and lag,
            timeout=30,
            what="the lag did not reach the orders placed",
        )
        assert lagging >= len(placed)
        status = _kafka_status(stack)
        [described] = [g for g in status["groups"] if g["group"] == group]
        assert all(p["end"] >= (p["committed"] or 0) for p in described["partitions"])
    finally:
        assert "started" in stack.supervisorctl("start", "apps:inventory-consumer")

    _until(
        lambda: _group_lag(_kafka_status(stack), group, topic) == 0,
        timeout=60,
        what="the lag did not drain",
    )
    for order_id in placed:
        _settled(orders, order_id, "confirmed")
    described = next(g for g in _kafka_status(stack)["groups"] if g["group"] == group)
    assert described["members"] and described["state"] == "STABLE"


def test_timelines_of_a_confirmed_and_a_cancelled_order_are_complete(orders, product):
    confirmed = _place(orders, product())
    _settled(orders, confirmed, "confirmed")
    cancelled = _place(orders, product())
    _settled(orders, cancelled, "confirmed")
    orders.post(f"/api/orders/{cancelled}/cancel/", {"reason": "ops test"})
    _settled(orders, cancelled, "cancelled")

    def timeline(order_id: str, count: int) -> list[dict]:
        body = orders.wait_for(
            f"/api/orders/{order_id}/timeline/",
            lambda b: (
                len(b["events"]) >= count and all(e["status"] != "pending" for e in b["events"])
            ),
        )
        return body["events"]

    events = timeline(confirmed, 3)
    assert [(e["direction"], e["event_type"]) for e in events] == [
        ("published", "OrderCreatedIntegrationEvent"),
        ("consumed", "StockReservedIntegrationEvent"),
        ("published", "OrderStatusChangedIntegrationEvent"),
    ]
    assert events[1]["causation_id"] == events[0]["event_id"]
    assert events[2]["causation_id"] == events[1]["event_id"]

    events = timeline(cancelled, 7)
    assert [e["event_type"] for e in events] == [
        "OrderCreatedIntegrationEvent",
        "StockReservedIntegrationEvent",
        "OrderStatusChangedIntegrationEvent",
        "OrderStatusChangedIntegrationEvent",
        "OrderCancelledIntegrationEvent",
        "StockLevelNormalizedIntegrationEvent",
        "OrderStatusChangedIntegrationEvent",
    ]
    assert events[5]["causation_id"] == events[4]["event_id"]
    assert events[6]["causation_id"] == events[5]["event_id"]
    assert all(e["status"] in ("published", "processed") for e in events)


def test_the_correlation_id_is_on_the_log_lines_of_both_services(stack, orders, product):
    order_id = _place(orders, product())
    _settled(orders, order_id, "confirmed")
    logs = stack.run_dir / "logs"

    def lines(program: str) -> list[str]:
        path = logs / f"{program}.log"
        return [line for line in path.read_text().splitlines() if order_id in line]

    def web_lines(_program: str) -> list[str]:
        # Either instance may have served the order's requests.
        return [line for n in (1, 2) for line in lines(f"order-web-{n}")]

    for program in ("order-web", "order-consumer", "inventory-consumer"):
        read = web_lines if program == "order-web" else lines
        found = _until(lambda p=program, r=read: r(p), timeout=10, what=f"no line in {program}")
        assert all(f"correlation_id={order_id}" in line for line in found), found


def _admin(base_url: str) -> requests.Session:
    session = requests.Session()
    login = f"{base_url}/admin/login/"
    session.get(login, timeout=10)
    response = session.post(
        login,
        data={
            "username": USER,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert response.status_code == 200 and "log out" in response.text.lower(), response.text
    return session


def test_a_poison_message_is_dead_lettered_shown_in_the_admin_and_replayed(stack):
    # given a poison message on the topic the inventory consumer reads
    marker = uuid.uuid4().hex
    produce_raw(
        stack.kafka,
        stack.topic("order-events"),
        b"{poison " + marker.encode(),
        key=marker.encode(),
        headers=[("correlation_id", marker.encode())],
    )

    # then it is on the dead-letter topic with the reasons in its headers
    def mine(messages):
        return [m for m in messages if m.key() == marker.encode()]

    [dead] = mine(
        read_topic(stack.kafka, stack.topic("order-events.dlq"), until=lambda ms: mine(ms))
    )
    assert header(dead, "dlq.error.class") == "EventDecodeError"
    assert header(dead, "dlq.original.topic") == stack.topic("order-events")
    assert header(dead, "dlq.consumer.group") == stack.topic("inventory-service")

    # and the Inventory admin shows it
    admin = _admin(stack.inventory_url)
    listing = f"{stack.inventory_url}/admin/shared_events/deadletter/"
    page = _until(
        lambda: (
            (r := admin.get(listing, params={"q": marker}, timeout=10).text).count(marker) and r
        ),
        timeout=20,
        what="the dead letter is not in the admin",
    )
    [letter_id] = set(re.findall(r"/admin/shared_events/deadletter/(\d+)/change/", page))
    detail = admin.get(f"{listing}{letter_id}/change/", timeout=10).text
    assert marker in detail and "EventDecodeError" in detail

    # when it is replayed from the admin
    response = admin.post(
        listing,
        data={
            "action": "replay",
            "_selected_action": [letter_id],
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
        },
        headers={"Referer": listing},
        timeout=10,
    )
    assert "1 dead letter(s) replayed" in response.text

    # then it round-trips through the group's own retry topic (the inventory service may not
    # write order-events): consumed from there, and dead-lettered again as a replay
    [replayed] = mine(
        read_topic(stack.kafka, stack.topic("inventory-service.retry"), until=lambda ms: mine(ms))
    )
    assert replayed.value() == dead.value()
    dead_again = mine(
        read_topic(
            stack.kafka, stack.topic("order-events.dlq"), until=lambda ms: len(mine(ms)) >= 2
        )
    )
    assert header(dead_again[1], "dlq.replay.of") == (
        f"{dead.topic()}[{dead.partition()}]@{dead.offset()}"
    )
    assert header(dead_again[1], "dlq.original.topic") == stack.topic("inventory-service.retry")
    replays = _until(
        lambda: (
            (r := admin.get(listing, params={"q": marker}, timeout=10).text).count("/change/") >= 2
            and r
        ),
        timeout=20,
        what="the replayed dead letter is not stored again",
    )
    assert len(set(re.findall(r"/admin/shared_events/deadletter/(\d+)/change/", replays))) == 2
