"""What must hold after any fault, once the saga has gone quiet."""

import json
import time
import urllib.parse
import uuid
from collections import defaultdict

import psycopg2
from confluent_kafka import (
    Consumer,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from shared_events.kafka.status import cluster_status
from tests.support.stack import Stack

FINAL = ("confirmed", "rejected", "cancelled", "shipped")
EXPECTED_RESERVATION = {
    "confirmed": {"reserved"},
    "shipped": {"sold"},
    "rejected": {"rejected"},
    "cancelled": {"released", "cancelled"},
}


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    parsed = urllib.parse.urlsplit(url)
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.path.lstrip("/"),
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        conn.close()


def quiet(stack: Stack) -> list[str]:
    """What is still moving; empty once the saga has settled."""
    order_db, inventory_db = stack.env["ORDER_DATABASE_URL"], stack.env["INVENTORY_DATABASE_URL"]
    busy = []
    [(in_flight,)] = query(
        order_db, "SELECT count(*) FROM orders_order WHERE status NOT IN %s", (FINAL,)
    )
    if in_flight:
        busy.append(f"{in_flight} order(s) in flight")
    for name, url in (("order", order_db), ("inventory", inventory_db)):
        [(pending,)] = query(
            url, "SELECT count(*) FROM shared_events_outboxmessage WHERE published_at IS NULL"
        )
        if pending:
            busy.append(f"{pending} {name} outbox row(s) unpublished")
    groups = {
        stack.topic("inventory-service"): stack.topic("order-events"),
        stack.topic("order-service"): stack.topic("inventory-events"),
    }
    try:
        status = cluster_status(stack.kafka, topics=groups.values(), groups=groups)
    except KafkaException as exc:
        return [*busy, f"Kafka unreachable: {exc}"]
    for group in status.groups:
        lag = sum(row.lag for row in group.partitions if row.topic == groups[group.group])
        if lag:
            busy.append(f"{group.group} lags {lag} on {groups[group.group]}")
    return busy


def wait_until_quiet(stack: Stack, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while busy := _quiet_or_why_not(stack):
        assert time.monotonic() < deadline, f"saga not settled after {timeout}s: {busy}"
        time.sleep(0.5)


def _quiet_or_why_not(stack: Stack) -> list[str]:
    try:
        return quiet(stack)
    except psycopg2.OperationalError as exc:  # the database is restarting
        return [f"PostgreSQL unavailable: {exc}"]


def assert_invariants(stack: Stack) -> None:
    """Every order final, stock conserved and agreeing with orders, nothing applied twice,
    nothing on the topics that its producer did not commit."""
    order_db, inventory_db = stack.env["ORDER_DATABASE_URL"], stack.env["INVENTORY_DATABASE_URL"]
    wait_until_quiet(stack)

    statuses = dict(query(order_db, "SELECT id::text, status FROM orders_order"))
    assert set(statuses.values()) <= set(FINAL)

    products = query(
        inventory_db,
        "SELECT sku, available_quantity, reserved_quantity, "
        "sold_quantity, received_quantity FROM stock_product",
    )
    held = defaultdict(lambda: {"reserved": 0, "sold": 0})
    for sku, status, quantity in query(
        inventory_db,
        "SELECT l.sku, r.status, l.quantity FROM stock_reservationline l "
        "JOIN stock_reservation r ON r.order_id = l.reservation_id",
    ):
        if status in ("reserved", "sold"):
            held[sku][status] += quantity
    for sku, available, reserved, sold, received in products:
        assert min(available, reserved, sold) >= 0, sku
        assert available + reserved + sold == received, sku
        assert (reserved, sold) == (held[sku]["reserved"], held[sku]["sold"]), sku

    reservations = dict(query(inventory_db, "SELECT order_id::text, status FROM stock_reservation"))
    for order_id, status in statuses.items():
        assert reservations.get(order_id) in EXPECTED_RESERVATION[status], (
            order_id,
            status,
            reservations.get(order_id),
        )

    for url, topic in ((order_db, "order-events"), (inventory_db, "inventory-events")):
        committed = {
            row[0] for row in query(url, "SELECT event_id::text FROM shared_events_outboxmessage")
        }
        events = _read_all(stack, stack.topic(topic))
        on_topic = {e["event_id"] for e in events}
        assert on_topic <= committed, f"{len(on_topic - committed)} uncommitted event(s) on {topic}"
        assert committed <= on_topic, f"{len(committed - on_topic)} event(s) never reached {topic}"
        if topic == "order-events":
            _assert_commit_order(events)


def _assert_commit_order(events: list[dict]) -> None:
    """Per order, in topic order: created first, then status changes that chain."""
    per_order: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        per_order[event["payload"]["order_id"]].append(event)
    for order_id, history in per_order.items():
        assert history[0]["event_type"] == "OrderCreatedIntegrationEvent", order_id
        status = "pending"
        seen: set[str] = set()
        for event in history:
            if event["event_id"] in seen:
                continue  # a republished copy: consumers drop it
            seen.add(event["event_id"])
            if event["event_type"] == "OrderStatusChangedIntegrationEvent":
                assert event["payload"]["old_status"] == status, (order_id, history)
                status = event["payload"]["new_status"]


def _read_all(stack: Stack, topic: str) -> list[dict]:
    """Every envelope on `topic`, in offset order per partition."""
    admin = AdminClient(stack.kafka.client_config())
    partitions = list(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    reader = Consumer(
        {
            **stack.kafka.client_config(),
            "group.id": f"audit-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        ends = {
            p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
        reader.assign([TopicPartition(topic, p, 0) for p in partitions])
        events, seen = [], defaultdict(int)
        deadline = time.monotonic() + 60
        while any(seen[p] < end for p, end in ends.items()):
            assert time.monotonic() < deadline, "could not read the whole topic"
            message = reader.poll(0.5)
            if message is None or message.error():
                continue
            seen[message.partition()] = message.offset() + 1
            events.append(json.loads(message.value()))
        return events
    finally:
        reader.close()
