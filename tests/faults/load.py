"""A paced stream of orders through the faults, and faults that prove they landed.

`Load` places orders at a steady rate (a quarter of them cancelled straight after) and
records each one in the test's `Ledger`; it retries through outages with the same
Idempotency-Key and counts the retries, so a test can show that its fault was felt.
Each injection checks that it happened: the signal reached a live process, the supervisor
started a new one, a server's port closed and opened again.
"""

import dataclasses
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable

import requests

from tests.faults.invariants import Ledger, query
from tests.support.stack import Api, Stack

PORTS = {"infra:postgres": 25432, "infra:redis": 26379, "infra:kafka": 29092}


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> float:
    """Poll `condition` until it holds; return when (time.time()).

    Quickly at first, then every half second at most: many conditions run supervisorctl
    or open an admin client, and polling them flat out takes a core from the stack.
    """
    deadline = time.monotonic() + timeout
    pause = 0.05
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    return time.time()


def product_create(inventory: Api, quantity: int, deadline: float = 60.0) -> str:
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


class Load:
    """Orders at `rate` a second from `clients` threads; every `cancel_every`-th is cancelled.

    Each order is expected to end in one of `expected` (confirmed: the products must have
    stock for every order), or cancelled once its cancellation was accepted.
    """

    def __init__(
        self,
        orders: Api,
        ledger: Ledger,
        skus: list[str],
        *,
        rate: float = 10.0,
        clients: int = 2,
        cancel_every: int = 4,
        limit: int | None = None,
        expected: frozenset[str] = frozenset({"confirmed"}),
    ) -> None:
        self.orders, self.ledger, self.skus = orders, ledger, skus
        self.interval = clients / rate
        self.cancel_every, self.limit, self.expected = cancel_every, limit, expected
        self.retries = 0  # requests that failed and were sent again
        self.errors: list[str] = []
        self._count = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        self._failure: BaseException | None = None

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in self._threads), "load did not stop"
        if self._failure is not None:
            raise AssertionError(f"load failed: {self._failure}") from self._failure

    @property
    def placed(self) -> int:
        return len(self.ledger)

    def wait_until_placed(self, count: int, timeout: float = 120.0) -> None:
        wait_for(
            lambda: self.placed >= count or self._failure is not None, f"{count} orders", timeout
        )
        assert self._failure is None, f"load failed: {self._failure}"

    def _next(self) -> int | None:
        with self._lock:
            if self.limit is not None and self._count >= self.limit:
                return None
            self._count += 1
            return self._count

    def _run(self) -> None:
        next_at = time.monotonic()
        try:
            while not self._stopping.is_set():
                n = self._next()
                if n is None:
                    return
                sku = self.skus[n % len(self.skus)]
                order_id = self._place(sku)
                self.ledger.placed(order_id, sku=sku, expected=self.expected)
                if n % self.cancel_every == 0:
                    self._cancel(order_id)
                next_at += self.interval
                self._stopping.wait(max(next_at - time.monotonic(), 0))
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self._failure = exc

    def _retried(self, what: str) -> None:
        with self._lock:
            self.retries += 1
            if len(self.errors) < 50:
                self.errors.append(what)
        time.sleep(0.2)

    def _place(self, sku: str, deadline: float = 90.0) -> str:
        """Place one order, retrying through outages with the same Idempotency-Key."""
        key = uuid.uuid4().hex
        body = {"lines": [{"sku": sku, "quantity": 1}]}
        stop = time.monotonic() + deadline
        while True:
            assert time.monotonic() < stop, "could not place an order through the fault"
            try:
                # As the ledger's customer: their orders are the ones the invariants look at.
                response = self.ledger.customer.session.post(
                    f"{self.ledger.customer.base_url}/api/orders/",
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=10,
                )
            except requests.RequestException as exc:
                self._retried(f"place: {type(exc).__name__}")
                continue
            if response.status_code == 201:
                return response.json()["id"]
            assert response.status_code >= 500, (
                f"order refused: {response.status_code} {response.text}"
            )
            self._retried(f"place: HTTP {response.status_code}")

    def _cancel(self, order_id: str, deadline: float = 90.0) -> None:
        """Cancel (cancelling twice is harmless), retrying through outages."""
        stop = time.monotonic() + deadline
        while True:
            assert time.monotonic() < stop, f"could not cancel {order_id} through the fault"
            try:
                response = self.orders.post(f"/api/orders/{order_id}/cancel/")
            except requests.RequestException as exc:
                self._retried(f"cancel: {type(exc).__name__}")
                continue
            if response.status_code == 202:
                self.ledger.cancelled(order_id)
                return
            assert response.status_code >= 500, (
                f"cancel refused: {response.status_code} {response.text}"
            )
            self._retried(f"cancel: HTTP {response.status_code}")


@dataclasses.dataclass
class Outage:
    """One injected fault: what, and when it was down (time.time(), as the database's clock)."""

    program: str
    down_at: float
    up_at: float
    old_pid: int
    new_pid: int

    def __str__(self) -> str:
        down = self.up_at - self.down_at
        return f"{self.program} (pid {self.old_pid} -> {self.new_pid}, {down:.1f}s)"


def kill(stack: Stack, program: str, timeout: float = 90.0) -> Outage:
    """SIGKILL `program` and wait until the supervisor runs a new process (and its port)."""
    old = stack.pid(program)
    assert old > 0, f"{program} is not running: {stack.state(program)}"
    os.kill(old, 0)  # alive, ours to signal
    os.kill(old, signal.SIGKILL)
    down = time.time()
    port = PORTS.get(program)
    if port is not None:
        wait_for(lambda: not port_open(port), f"{program} port {port} closed", timeout=10)
    wait_for(
        lambda: stack.pid(program) not in (0, old) and stack.state(program) == "RUNNING",
        f"{program} restarted by the supervisor",
        timeout,
    )
    if port is not None:
        wait_for(lambda: port_open(port), f"{program} port {port} open again", timeout)
    return Outage(program, down, time.time(), old, stack.pid(program))


def postgres_crash_restart(stack: Stack, timeout: float = 90.0) -> Outage:
    """Immediate shutdown (crash-like, SIGQUIT); the supervisor starts a new postmaster."""
    old = stack.pid("infra:postgres")
    assert old > 0
    stack.supervise("signal", "QUIT", "infra:postgres")
    down = time.time()
    wait_for(
        lambda: stack.pid("infra:postgres") not in (0, old),
        "PostgreSQL restarted by the supervisor",
        timeout,
    )
    wait_for(lambda: _postgres_answers(stack), "PostgreSQL answering again", timeout)
    return Outage("infra:postgres", down, time.time(), old, stack.pid("infra:postgres"))


def redis_outage(stack: Stack, seconds: float) -> Outage:
    """Stop Redis for `seconds` (its port really closed), then start it again."""
    old = stack.pid("infra:redis")
    assert old > 0
    stack.supervise("stop", "infra:redis")
    down = time.time()
    assert not port_open(PORTS["infra:redis"]), "Redis still listening after stop"
    time.sleep(seconds)  # the outage itself: several beat ticks fail meanwhile
    stack.supervise("start", "infra:redis")
    wait_for(lambda: port_open(PORTS["infra:redis"]), "Redis listening again")
    return Outage("infra:redis", down, time.time(), old, stack.pid("infra:redis"))


def _postgres_answers(stack: Stack) -> bool:
    try:
        query(stack.env["ORDER_DATABASE_URL"], "SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - still starting
        return False


def stopped(stack: Stack, *programs: str) -> None:
    """Stop `programs` and check that nothing of them runs."""
    stack.supervise("stop", *programs)
    for program in programs:
        assert stack.state(program) == "STOPPED", f"{program} is {stack.state(program)}"


def started(stack: Stack, *programs: str) -> None:
    stack.supervise("start", *programs)
    for program in programs:
        assert stack.state(program) == "RUNNING", f"{program} is {stack.state(program)}"


def published_after(stack: Stack, database: str, created: tuple[float, float], after: float) -> int:
    """Outbox rows written within `created` (wall clock) and published after `after`; waits
    first until every row written within `created` is published."""

    def counts() -> tuple[int, int]:
        [(published, pending)] = query(
            stack.env[database],
            "SELECT count(*) FILTER (WHERE extract(epoch FROM published_at) > %s),"
            "       count(*) FILTER (WHERE published_at IS NULL)"
            "  FROM shared_events_outboxmessage"
            " WHERE extract(epoch FROM created_at) BETWEEN %s AND %s",
            (after, *created),
        )
        return published, pending

    wait_for(lambda: counts()[1] == 0, "the rows written in the window published", timeout=120)
    return counts()[0]
