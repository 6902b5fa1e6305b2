"""Faults injected into the real processes and servers; the invariants must hold after each.

Every test drives orders through the saga while something dies, then waits for the saga
to go quiet and checks `assert_invariants`: all orders final, stock conserved and in
agreement with the orders, nothing applied twice, every committed event on its topic and
nothing else, one order's events in commit order. `FAULTS_SOAK=1` runs longer.
"""

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.faults.invariants import assert_invariants, query
from tests.support.stack import ROOT

SOAK = os.environ.get("FAULTS_SOAK") == "1"
ROUNDS = 5 if SOAK else 1


def _product(inventory, quantity: int, deadline: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    """Create a product, retrying while the previous test's fault is still healing."""
    sku = f"F-{uuid.uuid4().hex[:10].upper()}"
    body = {
        "sku": sku,
        "name": "fault test",
        "unit_price": "3.00",
        "available_quantity": quantity,
        "low_stock_threshold": 1,
    }
    stop = time.monotonic() + deadline
    while True:
        try:
            response = inventory.post("/api/products/", body)
            if response.status_code == 201:
                return sku
            if response.status_code == 400 and "already exists" in response.text:
                return sku  # an earlier try went through
        except requests.RequestException:
            pass
        assert time.monotonic() < stop, "could not create a product"
        time.sleep(0.2)


def _place(orders, sku: str, quantity: int = 1, deadline: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    """Place one order, retrying through outages with the same Idempotency-Key."""
    key = uuid.uuid4().hex
    body = {"customer_id": "fault", "lines": [{"sku": sku, "quantity": quantity}]}
    stop = time.monotonic() + deadline
    while True:
        try:
            response = orders.session.post(
                f"{orders.base_url}/api/orders/",
                json=body,
                headers={"Idempotency-Key": key},
                timeout=10,
            )
            if response.status_code == 201:
                return response.json()["id"]
        except requests.RequestException:
            pass
        assert time.monotonic() < stop, "could not place an order through the fault"
        time.sleep(0.2)


def _place_many(orders, skus: list[str], count: int, workers: int = 8) -> list[str]:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda i: _place(orders, skus[i % len(skus)]), range(count)))


class Killer(threading.Thread):
    """SIGKILL a random one of `programs` every `every` seconds until stopped."""

    def __init__(self, stack, programs: list[str], every: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stack, self.programs, self.every = stack, programs, every
        self.kills: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        rng = random.Random(42)
        while not self._stop_event.wait(self.every):
            program = rng.choice(self.programs)
            pid = self.stack.pid(program)
            if pid:
                os.kill(pid, signal.SIGKILL)
                self.kills.append(program)

    def stop(self) -> list[str]:
        self._stop_event.set()
        self.join(timeout=10)
        return self.kills


def test_flash_sale_sells_exactly_the_stock(stack, orders, inventory):
    # given 50 units and 500 buyers at once, with two inventory consumers
    sku = _product(inventory, 50)
    started = time.monotonic()

    ids = _place_many(orders, [sku], 500, workers=16)

    assert_invariants(stack)
    settled = time.monotonic() - started
    statuses = [
        s
        for (s,) in query(
            stack.env["ORDER_DATABASE_URL"],
            "SELECT status FROM orders_order WHERE id::text = ANY(%s)",
            (ids,),
        )
    ]
    assert statuses.count("confirmed") == 50
    assert statuses.count("rejected") == 450
    stock = inventory.get(f"/api/products/{sku}/").json()
    assert (stock["available_quantity"], stock["reserved_quantity"]) == (0, 50)
    print(f"flash sale: 500 orders for 50 units settled in {settled:.1f}s")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_killing_relays_and_consumers_loses_and_duplicates_nothing(
    stack, orders, inventory, round_
):
    skus = [_product(inventory, 40) for _ in range(3)]
    killer = Killer(
        stack,
        [
            "apps:order-worker",
            "apps:inventory-worker",
            "apps:order-relay",
            "apps:inventory-relay",
            "apps:order-consumer",
            "apps:inventory-consumer",
            "apps:inventory-consumer-2",
            "apps:order-consumer-2",
        ],
        every=0.7,
    )
    killer.start()
    placed = 0
    deadline = time.monotonic() + 120
    try:
        # Orders keep coming, in waves, until enough kills have landed among them.
        while placed < (90 if SOAK else 60) or len(killer.kills) < 4:
            assert time.monotonic() < deadline, f"only {len(killer.kills)} kills in 120 s"
            wave = _place_many(orders, skus, 15)
            for order_id in wave[::4]:  # cancel a quarter of them as they go
                orders.post(f"/api/orders/{order_id}/cancel/")
            placed += len(wave)
        time.sleep(3 if SOAK else 1)  # keep killing while the saga is mid-way
    finally:
        kills = killer.stop()
    assert len(kills) >= 4
    assert_invariants(stack)


def test_broker_killed_and_restarted(stack, orders, inventory):
    sku = _product(inventory, 100)
    before = _place_many(orders, [sku], 10)
    stack.supervisorctl("signal", "KILL", "infra:kafka")  # the supervisor restarts it
    during = _place_many(orders, [sku], 10)  # accepted while Kafka is down
    assert_invariants(stack)
    assert len(before + during) == 20


def test_postgres_immediate_restart(stack, orders, inventory):
    sku = _product(inventory, 100)
    placing = ThreadPoolExecutor(1).submit(_place_many, orders, [sku], 30, 4)
    time.sleep(0.5)
    # SIGQUIT is PostgreSQL's immediate shutdown (crash-like); the supervisor restarts it.
    stack.supervisorctl("signal", "QUIT", "infra:postgres")
    assert len(placing.result(timeout=120)) == 30
    assert_invariants(stack)


def test_redis_restart(stack, orders, inventory):
    sku = _product(inventory, 100)
    placing = ThreadPoolExecutor(1).submit(_place_many, orders, [sku], 30, 4)
    time.sleep(0.5)
    stack.supervisorctl("restart", "infra:redis")
    assert len(placing.result(timeout=120)) == 30
    assert_invariants(stack)


def test_two_beat_schedulers_at_once(stack, orders, inventory, tmp_path):
    sku = _product(inventory, 100)
    env = {**stack.env, "DJANGO_SETTINGS_MODULE": "order_service.settings.dev"}
    extra_beat = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "order_service",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ids = _place_many(orders, [sku], 40)
        assert extra_beat.poll() is None
    finally:
        extra_beat.terminate()
        extra_beat.wait(timeout=30)
    assert len(ids) == 40
    assert_invariants(stack)
