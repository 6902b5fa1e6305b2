"""The API gateway in front of the running stack: routes, request ids, instances that die,
the rate limit. Everything goes through `stack.gateway_url` as a client would."""

import contextlib
import http.client
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable

import pytest
import requests

from manage_scripts.stack.config import StackConfig
from manage_scripts.stack.gateway import gateway_server_states
from tests.e2e.conftest import GATEWAY_RATE_LIMIT
from tests.support.stack import Api

WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _until(check: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} (after {timeout}s)")


def _states(stack) -> dict[str, str]:
    return gateway_server_states(stack.gateway_stats())


@pytest.fixture(scope="module")
def customer(stack) -> Api:
    """A new customer who reaches both services through the gateway only."""
    return Api.registered(stack.gateway_url, username=f"gw-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def sku(inventory) -> str:
    sku = f"GW-{uuid.uuid4().hex[:10].upper()}"
    response = inventory.post(
        "/api/products/",
        {
            "sku": sku,
            "name": "gateway product",
            "unit_price": "3.00",
            "available_quantity": 10_000,
            "low_stock_threshold": 1,
        },
    )
    assert response.status_code == 201, response.text
    return sku


def test_each_route_reaches_its_service_and_nothing_else_under_api_is_public(stack, customer):
    gateway = stack.gateway_url
    # the catalog is the inventory service's, the orders and accounts the order service's
    products = requests.get(f"{gateway}/api/products/", timeout=10)
    assert products.status_code == 200
    direct = requests.get(f"{stack.inventory_url}/api/products/", timeout=10)
    assert products.json()["count"] == direct.json()["count"]
    assert customer.get("/api/orders/").status_code == 200
    assert requests.get(f"{gateway}/api/orders/", timeout=10).status_code == 401
    # the gateway's own check
    health = requests.get(f"{gateway}/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    # staff operations, metrics and the admin stay on the services' own ports
    for path in ("/api/ops/status/", "/api/ops/dead-letters/", "/api/unknown/"):
        response = requests.get(f"{gateway}{path}", timeout=10)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not found."
    metrics = requests.get(f"{gateway}/metrics", timeout=10)
    assert "saga_events_published_total" not in metrics.text


def test_one_openapi_document_for_the_public_api_with_its_docs_page(stack):
    # the services' public paths in one document, with the gateway as server
    schema = requests.get(f"{stack.gateway_url}/api/schema/", timeout=30)
    assert schema.status_code == 200, schema.text
    document = schema.json()
    assert document["servers"] == [{"url": stack.gateway_url}]
    assert {"/api/orders/", "/api/auth/token/", "/api/products/{sku}/"} <= set(document["paths"])
    assert not [
        p
        for p in document["paths"]
        if not p.startswith(("/api/orders/", "/api/auth/", "/api/products/"))
    ]
    # and Swagger UI with every file from the gateway's own address
    page = requests.get(f"{stack.gateway_url}/api/docs/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    for asset in assets:
        assert requests.get(f"{stack.gateway_url}{asset}", timeout=10).status_code == 200, asset


def test_a_well_formed_request_id_is_kept_end_to_end_and_a_malformed_one_replaced(
    stack, customer, sku
):
    # given a client's request id
    request_id = f"e2e-{uuid.uuid4().hex}"
    # when it places an order through the gateway
    response = customer.session.post(
        f"{stack.gateway_url}/api/orders/",
        json={"lines": [{"sku": sku, "quantity": 1}]},
        headers={"X-Request-ID": request_id},
        timeout=10,
    )
    # then the response, the service's log line, the outbox row and the timeline carry it
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id
    order_id = response.json()["id"]
    logs = [stack.run_dir / "logs" / f"order-web-{n}.log" for n in (1, 2)]

    def logged() -> list[str]:
        return [
            line
            for log in logs
            for line in log.read_text().splitlines()
            if f"request_id={request_id}" in line and "POST /api/orders/ 201" in line
        ]

    _until(logged, timeout=10, what="no log line of the request with its id")
    # and it travels on with the saga: Inventory Service's consumer logs it, and the event
    # Order Service publishes in answer to Inventory Service's carries it again
    inventory_logs = sorted((stack.run_dir / "logs").glob("inventory-consumer*.log"))
    _until(
        lambda: any(f"request_id={request_id}" in log.read_text() for log in inventory_logs),
        timeout=30,
        what="no log line of Inventory Service's consumer with the request id",
    )

    def confirmed() -> list[dict]:
        events = customer.get(f"/api/orders/{order_id}/timeline/").json()["events"]
        return [e for e in events if e["event_type"] == "OrderStatusChangedIntegrationEvent"]

    timeline = customer.get(f"/api/orders/{order_id}/timeline/").json()["events"]
    created = [e for e in timeline if e["event_type"] == "OrderCreatedIntegrationEvent"]
    assert [e["request_id"] for e in created] == [request_id]
    assert [e["request_id"] for e in _until(confirmed, timeout=30, what="no status change")] == [
        request_id
    ]

    # a malformed id (spaces, too long, two of them) is replaced by a well-formed new one
    for headers in (
        {"X-Request-ID": "not ok!"},
        {"X-Request-ID": "x" * 65},
        {},
    ):
        answer = requests.get(f"{stack.gateway_url}/api/products/", headers=headers, timeout=10)
        assert answer.status_code == 200
        made = answer.headers["X-Request-ID"]
        assert WELL_FORMED.fullmatch(made) and made != headers.get("X-Request-ID"), made
    two = http.client.HTTPConnection("127.0.0.1", int(stack.env["GATEWAY_PORT"]), timeout=10)
    two.putrequest("GET", "/api/products/")
    two.putheader("X-Request-ID", "first")
    two.putheader("X-Request-ID", "second")
    two.endheaders()
    made = two.getresponse().getheader("X-Request-ID")
    assert made not in ("first", "second") and WELL_FORMED.fullmatch(made or ""), made
    # an error the gateway answers itself carries one too
    assert requests.get(f"{stack.gateway_url}/api/nope/", timeout=10).headers["X-Request-ID"]


class GetStream:
    """Threads sending GETs through the gateway until stopped; every status they saw.

    Like the storefront's API client, a thread asks a GET once more when its answer was cut
    mid-way: an instance killed between writing the headers and the body leaves the gateway
    nothing it may retry. `cut` counts those.

    Each thread sends at most one GET every `GAP_S`: a GET every 20 ms in all, whatever the
    machine's speed, stays under the gateway's rate limit for this address (GATEWAY_RATE_LIMIT
    per 10 s), which the other tests share."""

    GAP_S = 0.06

    def __init__(self, url: str, threads: int = 3) -> None:
        self.url = url
        self.statuses: list[int | str] = []
        self.cut = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        session = requests.Session()
        while not self.stopping.wait(self.GAP_S):
            try:
                try:
                    response = session.get(self.url, timeout=10)
                except requests.exceptions.ChunkedEncodingError:
                    self.cut += 1
                    response = session.get(self.url, timeout=10)
                self.statuses.append(response.status_code)
            except requests.RequestException as exc:
                self.statuses.append(type(exc).__name__)

    def __enter__(self) -> "GetStream":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def _kill_instance(stack, program: str, sig: signal.Signals = signal.SIGKILL) -> int:
    """Send `sig` to every process of a web instance (gunicorn's master and workers)."""
    pid = stack.pid(f"apps:{program}")
    assert pid > 0, f"{program} is not running: {stack.state(f'apps:{program}')}"
    assert os.getpgid(pid) == pid, "supervisord starts each program in a process group"
    os.killpg(pid, sig)
    return pid


def _back_in_rotation(stack, program: str, old_pid: int) -> None:
    _until(
        lambda: (
            stack.pid(f"apps:{program}") not in (0, old_pid)
            and stack.state(f"apps:{program}") == "RUNNING"
        ),
        timeout=60,
        what=f"{program} not restarted by the supervisor",
    )
    server = program.replace("-web-", "-")  # order-web-1 is the gateway's order-1
    _until(
        lambda: _states(stack).get(server) == "UP",
        timeout=30,
        what=f"{program} not back in rotation",
    )


def test_a_killed_web_instance_leaves_rotation_at_once_and_no_get_fails(stack):
    assert _states(stack)["inventory-1"] == "UP"
    with GetStream(f"{stack.gateway_url}/api/products/") as stream:
        time.sleep(1)
        # when one inventory instance is SIGKILLed under a stream of GETs
        old = _kill_instance(stack, "inventory-web-1")
        killed_at = time.monotonic()
        # then it is out of rotation within 2 s
        _until(
            lambda: _states(stack)["inventory-1"].startswith("DOWN"),
            timeout=2,
            what="the killed instance is still in rotation",
        )
        out_after = time.monotonic() - killed_at
        # and the supervisor starts it again, and the gateway takes it back
        _back_in_rotation(stack, "inventory-web-1", old)
        time.sleep(1)
    # and not one GET failed meanwhile: at most the answers the killed workers were
    # writing were cut, and asked again
    failures = [s for s in stream.statuses if s != 200]
    assert not failures, f"{len(failures)} of {len(stream.statuses)} GETs failed: {failures[:5]}"
    workers = StackConfig.from_env(stack.env).web_workers
    assert stream.cut <= workers, f"{stream.cut} answers cut by one instance's death"
    assert len(stream.statuses) > 50, stream.statuses
    print(
        f"out of rotation after {out_after:.2f}s; {len(stream.statuses)} GETs, all 200 "
        f"({stream.cut} cut mid-answer and asked again)"
    )


def test_a_post_caught_on_a_dying_instance_is_retried_by_the_client_and_creates_one_order(
    stack, sku
):
    buyer = Api.registered(stack.gateway_url, username=f"gw-post-{uuid.uuid4().hex[:8]}")
    keys = [str(uuid.uuid4()) for _ in range(4)]
    first: dict[str, int | str] = {}

    def place(key: str) -> int | str:
        try:
            return requests.post(
                f"{stack.gateway_url}/api/orders/",
                json={"lines": [{"sku": sku, "quantity": 1}]},
                headers={**buyer.session.headers, "Idempotency-Key": key},
                timeout=30,
            ).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    # given an order instance that hangs (stopped), so that POSTs sent to it wait there
    old = _kill_instance(stack, "order-web-1", signal.SIGSTOP)
    try:
        threads = [
            threading.Thread(target=lambda k=k: first.__setitem__(k, place(k))) for k in keys
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        # when it dies with them in hand
        _kill_instance(stack, "order-web-1", signal.SIGKILL)
        for thread in threads:
            thread.join()
    finally:
        with contextlib.suppress(ProcessLookupError):  # dead already, unless the test failed
            os.killpg(old, signal.SIGCONT)
    # then those POSTs got a 502/503 (never sent twice by the gateway), the others a 201
    assert set(first.values()) <= {201, 502, 503}, first
    lost = [k for k, status in first.items() if status != 201]
    assert lost, (
        f"every POST answered 201: none reached the stopped instance, or one was re-sent: {first}"
    )
    # and the client's retries with the same keys create each order once
    for key in keys:
        assert place(key) == 201
    orders = buyer.get("/api/orders/").json()
    assert orders["count"] == len(keys), orders
    _back_in_rotation(stack, "order-web-1", old)


def test_too_many_requests_from_one_address_get_429_with_retry_after(stack):
    port = int(stack.env["GATEWAY_PORT"])
    # given a client at its own address (every 127.x.y.z is this machine)
    client = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=("127.0.0.7", 0)
    )

    def get(path: str) -> http.client.HTTPResponse:
        client.request("GET", path)
        response = client.getresponse()
        response.read()
        return response

    # when it sends more than GATEWAY_RATE_LIMIT requests within 10 s
    statuses = [get("/api/unknown/").status for _ in range(GATEWAY_RATE_LIMIT)]
    assert set(statuses) == {404}
    limited = get("/api/products/")
    # then it gets a 429 with Retry-After and a request id, before any service is asked
    assert limited.status == 429
    assert limited.getheader("Retry-After") == "10"
    assert limited.getheader("X-Request-ID")
    # and a page of the shop gets a page that says what happened, not JSON
    client.request("GET", "/")
    page = client.getresponse()
    assert page.status == 429
    assert page.getheader("Content-Type").startswith("text/html")
    assert "Please wait ten seconds" in page.read().decode()
    # while another address is served as usual
    assert requests.get(f"{stack.gateway_url}/api/products/", timeout=10).status_code == 200


def test_with_no_storefront_instance_up_a_shopper_gets_a_page_that_says_so(stack):
    instances = [f"apps:storefront-web-{n}" for n in (1, 2)]
    # when every storefront instance is stopped
    stack.supervise("stop", *instances)
    try:
        _until(
            lambda: all(_states(stack)[f"storefront-{n}"].startswith("DOWN") for n in (1, 2)),
            timeout=10,
            what="the stopped storefront instances are still in rotation",
        )
        # then a shop page is a 503 page for a person, and the API still answers
        page = requests.get(f"{stack.gateway_url}/", timeout=10)
        assert page.status_code == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert "The shop is unavailable" in page.text
        assert requests.get(f"{stack.gateway_url}/api/products/", timeout=10).status_code == 200
    finally:
        stack.supervise("start", *instances)
        _until(
            lambda: all(_states(stack)[f"storefront-{n}"] == "UP" for n in (1, 2)),
            timeout=60,
            what="the storefront instances are not back in rotation",
        )
