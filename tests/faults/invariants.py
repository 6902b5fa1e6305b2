"""What must hold after any fault, once the saga has gone quiet.

A `Ledger` remembers every order a test placed (from the 201s) and what the test did to it,
so that an order lost, stalled, doubled or repaired after its 201 is named. The saga's own
repairs (a saga step sent again, a dead letter) would hide a lost event given time, so they
count as failures unless the test injected exactly that.
"""

import dataclasses
import json
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from collections.abc import Iterable

import psycopg2
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from shared_events.kafka.status import GroupStatus, cluster_status
from tests.support.stack import Api, Stack

FINAL = ("confirmed", "rejected", "cancelled", "shipped")
EXPECTED_RESERVATION = {
    "confirmed": {"reserved"},
    "shipped": {"sold"},
    "rejected": {"rejected"},
    "cancelled": {"released", "cancelled"},
}
# Within this, a stalled saga must show itself: below ORDER_SAGA_TIMEOUT_SECONDS of the
# fault stack, so that the settle task cannot repair a lost event before anyone looks.
QUIET_TIMEOUT = 45.0
SHOWN = 10  # ids named per failure


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


@dataclasses.dataclass
class PlacedOrder:
    order_id: str
    sku: str
    placed_at: float
    expected: frozenset[str]  # the final statuses the test's actions allow
    cancelled: bool = False


class Ledger:
    """Every order one test placed, and what it did to each; thread-safe.

    Orders are placed by the ledger's own customer account, so an order the test never got a
    201 for (a doubled POST) is found too. Dead letters are counted from the ledger's creation.
    """

    def __init__(self, stack: Stack) -> None:
        self.customer = Api.registered(stack.order_url, username=f"faults-{uuid.uuid4().hex[:10]}")
        self.customer_id = self.customer.user_id
        self.started_at = time.time()
        self._orders: dict[str, PlacedOrder] = {}
        self._lock = threading.Lock()
        self.dead_letters_before = _dead_letter_counts(stack)

    def placed(self, order_id: str, *, sku: str, expected: Iterable[str]) -> None:
        with self._lock:
            self._orders[order_id] = PlacedOrder(
                order_id, sku, time.time(), expected=frozenset(expected)
            )

    def cancelled(self, order_id: str) -> None:
        """The service accepted the cancellation (202): the order must end cancelled."""
        with self._lock:
            self._orders[order_id].cancelled = True
            self._orders[order_id].expected = frozenset({"cancelled"})

    @property
    def orders(self) -> list[PlacedOrder]:
        with self._lock:
            return list(self._orders.values())

    def placed_between(self, start: float, end: float) -> list[str]:
        """Orders whose 201 came within [start, end] (time.time())."""
        return [o.order_id for o in self.orders if start <= o.placed_at <= end]

    def __len__(self) -> int:
        return len(self._orders)


# --- settling ------------------------------------------------------------------------


def _groups(stack: Stack) -> dict[str, str]:
    """Every consumer group of the stack, and the topic it consumes."""
    return {
        stack.topic("inventory-service"): stack.topic("order-events"),
        stack.topic("order-service"): stack.topic("inventory-events"),
        stack.topic("inventory-service.dead-letters"): stack.topic("order-events.dlq"),
        stack.topic("order-service.dead-letters"): stack.topic("inventory-events.dlq"),
    }


def _group_problems(stack: Stack) -> list[str]:
    """Groups missing, without members or lagging: a group that does not exist lags nothing."""
    groups = _groups(stack)
    status = cluster_status(stack.kafka, topics=groups.values(), groups=groups)
    ends = {t.name: {p.partition: p.latest for p in t.partitions} for t in status.topics}
    problems = []
    for group in status.groups:
        topic = groups[group.group]
        if group.state.upper() not in ("STABLE",) or not group.members:
            problems.append(
                f"group {group.group} is {group.state} with {len(group.members)} member(s)"
            )
            continue
        problems += _lag_problems(group, topic, ends.get(topic, {}))
    return problems


def _lag_problems(group: GroupStatus, topic: str, ends: dict[int, int]) -> list[str]:
    rows = {row.partition: row for row in group.partitions if row.topic == topic}
    problems = []
    for partition, end in sorted(ends.items()):
        row = rows.get(partition)
        if end and (row is None or row.committed is None):
            problems.append(f"{group.group} never committed on {topic}[{partition}] (end {end})")
        elif row is not None and row.lag:
            problems.append(f"{group.group} lags {row.lag} on {topic}[{partition}]")
    return problems


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
    try:
        busy += _group_problems(stack)
    except KafkaException as exc:
        busy.append(f"Kafka unreachable: {exc}")
    return busy


def wait_until_quiet(stack: Stack, timeout: float = QUIET_TIMEOUT) -> list[str]:
    """Wait for the saga to settle; return what still moves after `timeout` (empty if quiet)."""
    deadline = time.monotonic() + timeout
    while busy := _quiet_or_why_not(stack):
        if time.monotonic() > deadline:
            return busy
        time.sleep(0.5)
    return []


def _quiet_or_why_not(stack: Stack) -> list[str]:
    try:
        return quiet(stack)
    except psycopg2.OperationalError as exc:  # the database is restarting
        return [f"PostgreSQL unavailable: {exc}"]


# --- the invariants -----------------------------------------------------------------


@dataclasses.dataclass
class Report:
    failures: list[str] = dataclasses.field(default_factory=list)
    checks: list[str] = dataclasses.field(default_factory=list)

    def check(self, name: str, offenders: Iterable[str], what: str) -> None:
        """Record `name` as checked; fail it when `offenders` is not empty, naming them."""
        found = sorted(set(offenders))
        self.checks.append(f"{name}: {'FAILED' if found else 'ok'}")
        if found:
            shown = ", ".join(found[:SHOWN]) + (
                f" … ({len(found)} in all)" if len(found) > SHOWN else ""
            )
            self.failures.append(f"{name}: {len(found)} {what}: {shown}")


def assert_invariants(
    stack: Stack,
    ledger: Ledger,
    *,
    retries_expected: bool = False,
    dead_letters_expected: bool = False,
    republish_expected: bool = False,
) -> Report:
    """Wait for quiet, then prove that nothing was lost, doubled, reordered or repaired.

    `retries_expected`: the test took something away long enough for the saga to send a
    step again. `dead_letters_expected`: it injected a poison message. `republish_expected`:
    it killed a relay (or its database) between Kafka's acknowledgement and the marking,
    so an event may reach its topic twice (consumers drop the copy).
    """
    report = Report()
    busy = wait_until_quiet(stack)
    report.check("saga quiet", busy, f"thing(s) still moving after {QUIET_TIMEOUT:.0f}s")
    order_db, inventory_db = stack.env["ORDER_DATABASE_URL"], stack.env["INVENTORY_DATABASE_URL"]

    orders = {
        row[0]: row
        for row in query(
            order_db,
            "SELECT id::text, status, saga_retries, status_reason, customer_id FROM orders_order",
        )
    }
    placed = {o.order_id: o for o in ledger.orders}
    report.check("placed orders exist", (i for i in placed if i not in orders), "order(s) missing")
    report.check(
        "orders ended as the test's actions predict",
        (
            f"{i} ended {orders[i][1]} (expected {'/'.join(sorted(o.expected))};"
            f" reason {orders[i][3]!r})"
            for i, o in placed.items()
            if i in orders and orders[i][1] not in o.expected
        ),
        "order(s)",
    )
    report.check(
        "no order the test did not cancel ended cancelled",
        (
            f"{i} ({orders[i][3]!r})"
            for i, o in placed.items()
            if i in orders and not o.cancelled and orders[i][1] in ("cancelled", "cancelling")
        ),
        "order(s)",
    )
    report.check(
        "no order the test did not place",
        (i for i, row in orders.items() if row[4] == ledger.customer_id and i not in placed),
        "unexpected order(s)",
    )
    if not retries_expected:
        report.check(
            "no saga step sent again",
            (f"{i} (saga_retries={orders[i][2]})" for i in placed if i in orders and orders[i][2]),
            "order(s)",
        )
    report.check(
        "every order final", (i for i, row in orders.items() if row[1] not in FINAL), "order(s)"
    )

    _check_stock(report, inventory_db, {i: row[1] for i, row in orders.items()})

    dead = {
        name: count - ledger.dead_letters_before.get(name, 0)
        for name, count in _dead_letter_counts(stack).items()
    }
    if not dead_letters_expected:
        report.check(
            "no dead letters",
            (f"{n}: {c} new" for n, c in dead.items() if c),
            "dead-letter place(s)",
        )

    topics = {}
    for url, topic in ((order_db, "order-events"), (inventory_db, "inventory-events")):
        outbox = {
            row[0]: row[1]
            for row in query(url, "SELECT event_id::text, id FROM shared_events_outboxmessage")
        }
        events = _read_all(stack, stack.topic(topic))
        topics[topic] = events
        on_topic = {e["event_id"] for e in events}
        report.check(
            f"nothing uncommitted on {topic}",
            on_topic - outbox.keys(),
            "event(s) not in the outbox",
        )
        report.check(
            f"every committed event on {topic}",
            outbox.keys() - on_topic,
            "event(s) never published",
        )
        report.check(f"per-key order on {topic}", _out_of_order(events, outbox), "key(s)")
        if not republish_expected:
            report.check(
                f"no event twice on {topic} for the test's orders",
                _copies(events, set(placed)),
                "event(s)",
            )
    report.check(
        "order-events chain status by status", _broken_chains(topics["order-events"]), "order(s)"
    )
    requests, replies = _unanswered(topics, set(placed), orders)
    report.check(
        "every request to inventory answered (causation)", requests, "event(s) on order-events"
    )
    report.check(
        "every answer from inventory applied (causation)", replies, "event(s) on inventory-events"
    )

    print("\n".join(["invariants:", *(f"  {line}" for line in report.checks)]))
    assert not report.failures, "\n".join(report.failures)
    return report


def _check_stock(report: Report, inventory_db: str, statuses: dict[str, str]) -> None:
    products = query(
        inventory_db,
        "SELECT sku, available_quantity, reserved_quantity, "
        "sold_quantity, received_quantity FROM stock_product",
    )
    held: dict[str, dict[str, int]] = defaultdict(lambda: {"reserved": 0, "sold": 0})
    for sku, status, quantity in query(
        inventory_db,
        "SELECT l.sku, r.status, l.quantity FROM stock_reservationline l "
        "JOIN stock_reservation r ON r.order_id = l.reservation_id",
    ):
        if status in ("reserved", "sold"):
            held[sku][status] += quantity
    report.check(
        "stock conserved and matching reservations",
        (
            f"{sku} (available {a}, reserved {r}, sold {s}, received {rc}; held {dict(held[sku])})"
            for sku, a, r, s, rc in products
            if min(a, r, s) < 0
            or a + r + s != rc
            or (r, s) != (held[sku]["reserved"], held[sku]["sold"])
        ),
        "product(s)",
    )
    reservations = dict(query(inventory_db, "SELECT order_id::text, status FROM stock_reservation"))
    report.check(
        "reservation agrees with order status",
        (
            f"{order_id} is {status}, reservation {reservations.get(order_id)}"
            for order_id, status in statuses.items()
            if status in EXPECTED_RESERVATION
            and reservations.get(order_id) not in EXPECTED_RESERVATION[status]
        ),
        "order(s)",
    )


def _dead_letter_counts(stack: Stack) -> dict[str, int]:
    """Dead letters stored by each service and messages on each dead-letter topic."""
    counts = {}
    for service in ("order", "inventory"):
        [(stored,)] = query(
            stack.env[f"{service.upper()}_DATABASE_URL"],
            "SELECT count(*) FROM shared_events_deadletter",
        )
        counts[f"{service} DeadLetter table"] = stored
    admin = AdminClient(stack.kafka.client_config())
    for base in ("order-events.dlq", "inventory-events.dlq"):
        topic = stack.topic(base)
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
        reader = Consumer({**stack.kafka.client_config(), "group.id": f"audit-{uuid.uuid4().hex}"})
        try:
            counts[topic] = sum(
                high - low
                for low, high in (
                    reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                    for p in partitions
                )
            )
        finally:
            reader.close()
    return counts


def _first_copies(events: list[dict]) -> list[dict]:
    """Each event once, where it first appeared (a republished copy is dropped by consumers)."""
    seen: set[str] = set()
    firsts = []
    for event in events:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            firsts.append(event)
    return firsts


def _out_of_order(events: list[dict], outbox_ids: dict[str, int]) -> list[str]:
    """Keys whose events reached the topic out of outbox id order (per key, commit order)."""
    last: dict[str, tuple[int, str]] = {}
    offenders = []
    for event in _first_copies(events):
        key, row = event["_key"], outbox_ids.get(event["event_id"])
        if row is None:
            continue
        if key in last and row < last[key][0]:
            offenders.append(f"{key}: {event['event_id']} after {last[key][1]}")
        last[key] = (row, event["event_id"])
    return offenders


def _copies(events: list[dict], order_ids: set[str]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        if event["correlation_id"] in order_ids:
            counts[event["event_id"]] += 1
    return [f"{event_id} x{n}" for event_id, n in counts.items() if n > 1]


def _broken_chains(events: list[dict]) -> list[str]:
    """Per order, in topic order: created first, then status changes that chain."""
    per_order: dict[str, list[dict]] = defaultdict(list)
    for event in _first_copies(events):
        per_order[event["payload"]["order_id"]].append(event)
    offenders = []
    for order_id, history in per_order.items():
        if history[0]["event_type"] != "OrderCreatedIntegrationEvent":
            offenders.append(f"{order_id} starts with {history[0]['event_type']}")
            continue
        status = "pending"
        for event in history:
            if event["event_type"] == "OrderStatusChangedIntegrationEvent":
                if event["payload"]["old_status"] != status:
                    offenders.append(
                        f"{order_id}: {event['event_id']} {event['payload']['old_status']}->"
                        f"{event['payload']['new_status']} after {status}"
                    )
                    break
                status = event["payload"]["new_status"]
    return offenders


def _unanswered(
    topics: dict[str, list[dict]], order_ids: set[str], orders: dict[str, tuple]
) -> tuple[list[str], list[str]]:
    """Events of the test's orders that the other service never acted on.

    Inventory answers every OrderCreated (the first per order: a repeated one may find the
    order cancelled) and every OrderCancelled with an event whose causation is the request.
    The Order Service acts on every answer with a status change caused by it, unless the
    order had already left the state the answer is for, for another cause.
    """
    order_events = [
        e for e in _first_copies(topics["order-events"]) if e["correlation_id"] in order_ids
    ]
    answers = [
        e for e in _first_copies(topics["inventory-events"]) if e["correlation_id"] in order_ids
    ]
    answered = {e["causation_id"] for e in answers}
    unanswered_requests, asked = [], set()
    for event in order_events:
        kind, order_id = event["event_type"], event["correlation_id"]
        if kind == "OrderCreatedIntegrationEvent":
            first = order_id not in asked
            asked.add(order_id)
            if not first:
                continue
        elif kind != "OrderCancelledIntegrationEvent":
            continue
        if event["event_id"] not in answered:
            unanswered_requests.append(
                f"{event['event_id']} ({kind} of order {order_id}, now {_status(orders, order_id)})"
            )

    # Per order, which status changes happened and what caused each.
    left: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for event in order_events:
        if event["event_type"] == "OrderStatusChangedIntegrationEvent":
            left[(event["correlation_id"], event["payload"]["old_status"])].add(
                event["causation_id"]
            )
    unapplied = []
    for answer in answers:
        kind, order_id = answer["event_type"], answer["correlation_id"]
        if kind in ("StockReservedIntegrationEvent", "ReservationFailedIntegrationEvent"):
            state = "pending"
        elif kind == "StockLevelNormalizedIntegrationEvent" and answer["payload"].get("order_id"):
            state = "cancelling"
        else:
            continue
        causes = left.get((order_id, state), set())
        if answer["event_id"] in causes:
            continue  # applied
        if causes:
            continue  # the order had left that state already, for another cause
        unapplied.append(
            f"{answer['event_id']} ({kind} of order {order_id}, now {_status(orders, order_id)})"
        )
    return unanswered_requests, unapplied


def _status(orders: dict[str, tuple], order_id: str) -> str:
    return orders[order_id][1] if order_id in orders else "missing"


def _read_all(stack: Stack, topic: str) -> list[dict]:
    """Every envelope on `topic`, in offset order per partition, with its key as `_key`."""
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
            event = json.loads(message.value())
            event["_key"] = (message.key() or b"").decode()
            events.append(event)
        return events
    finally:
        reader.close()
