"""The staff console: staff only, every action through the API client with the staff
member's token, and every failure shown as a message."""

import functools
import json

import httpx
import jwt
import pytest
from django.test import Client

from storefront import identity
from storefront.api_client import ApiClient
from storefront.identity import SESSION_TOKENS

ORDER_ID = "6f1c5f43-3f0a-4d47-9b1e-2f7c8f9a0b11"
STATUS = {
    "service": "order-service",
    "checked_at": "2026-12-03T14:00:00Z",
    "outbox": {"pending": 7, "failed": 1, "oldest_pending_age_seconds": 2.5},
    "dead_letters": {"unreplayed": 2, "total": 3},
    "kafka": {
        "reachable": True,
        "error": "",
        "groups": [
            {
                "group": "order-service",
                "state": "STABLE",
                "members": 1,
                "lag": 42,
                "topics": [{"topic": "inventory-events", "lag": 42}],
            }
        ],
    },
}
PRODUCT = {
    "sku": "KEYBOARD-01",
    "name": "Keyboard",
    "unit_price": "89.00",
    "available_quantity": 2,
    "reserved_quantity": 1,
    "sold_quantity": 0,
    "low_stock_threshold": 5,
    "is_low": True,
    "stock_level": "low",
    "updated_at": "2026-12-03T14:00:00Z",
}
ORDER = {
    "id": ORDER_ID,
    "customer_id": "7",
    "status": "confirmed",
    "status_reason": "",
    "total_amount": "89.00",
    "lines": [{"sku": "KEYBOARD-01", "quantity": 1, "unit_price": "89.00"}],
    "shipping_address": "1 Saga Street",
    "note": "",
    "created_at": "2026-12-03T14:00:00Z",
    "updated_at": "2026-12-03T14:00:00Z",
}
LETTER = {
    "id": 12,
    "topic": "order-events.dlq",
    "partition": 0,
    "offset": 3,
    "original_topic": "order-events",
    "original_partition": 1,
    "original_offset": 40,
    "consumer_group": "inventory-service",
    "error_class": "EventRejectedError",
    "error_message": "lines do not match the order",
    "attempts": 1,
    "failed_at": None,
    "event_id": "e-1",
    "event_type": "OrderCreatedIntegrationEvent",
    "correlation_id": ORDER_ID,
    "key_text": ORDER_ID,
    "value_text": '{"event_id": "e-1"}',
    "received_at": "2026-12-03T14:00:00Z",
    "replay_count": 0,
    "replayed_at": None,
    "last_replay_error": "",
}


class FakeServices:
    """Both services' APIs as the console calls them: answers by (host, method, path),
    and every request kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[tuple[str, str, str], httpx.Response | Exception] = {}

    def answer(self, service: str, method: str, path: str, response) -> None:
        self.answers[(f"{service}.test", method, path)] = response

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.get((request.url.host, request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"message": "Not found.", "extra": {}})
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def services(monkeypatch) -> FakeServices:
    fake = FakeServices()
    monkeypatch.setattr(
        identity,
        "ApiClient",
        functools.partial(
            ApiClient,
            order_url="http://order.test",
            inventory_url="http://inventory.test",
            transport=httpx.MockTransport(fake),
        ),
    )
    return fake


def _signed_in(*, is_staff: bool) -> Client:
    client = Client()
    access = jwt.encode(
        {"user_id": 7, "username": "stan" if is_staff else "cora", "is_staff": is_staff},
        "a key the storefront never checks: the services do",
        algorithm="HS256",
    )
    session = client.session
    session[SESSION_TOKENS] = {"access": access, "refresh": "refresh-token"}
    session.save()
    return client


@pytest.fixture
def staff() -> Client:
    return _signed_in(is_staff=True)


PAGES = [
    ("GET", "/staff/"),
    ("GET", "/staff/status.json"),
    ("GET", "/staff/stock/"),
    ("POST", "/staff/stock/KEYBOARD-01/restock/"),
    ("GET", "/staff/orders/"),
    ("POST", f"/staff/orders/{ORDER_ID}/ship/"),
    ("GET", f"/staff/orders/{ORDER_ID}/timeline/"),
    ("GET", "/staff/dead-letters/"),
    ("POST", "/staff/dead-letters/order/12/replay/"),
]


@pytest.mark.parametrize("method, path", PAGES)
def test_a_customer_is_refused_every_console_page_and_no_api_is_called(services, method, path):
    response = _signed_in(is_staff=False).generic(method, path, "quantity=5")

    assert response.status_code == 403
    assert "staff accounts only" in response.content.decode()
    assert services.requests == []


@pytest.mark.parametrize("method, path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(services, method, path):
    response = Client().generic(method, path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert services.requests == []


def test_the_overview_shows_each_services_backlog_and_lag_and_one_that_is_down(services, staff):
    services.answer("order", "GET", "/api/ops/status/", httpx.Response(200, json=STATUS))
    services.answer("inventory", "GET", "/api/ops/status/", httpx.ConnectError("refused"))

    page = staff.get("/staff/").content.decode()
    live = staff.get("/staff/status.json").json()

    assert "inventory-events" in page and ">42<" in page and ">7<" in page
    assert "The inventory service did not answer." in page
    assert 'src="/static/storefront/console-live.js"' in page
    # what the page polls: the figures, and the same panels rendered again
    assert live["services"][0]["status"] == STATUS
    assert live["services"][1]["error"] == "The inventory service did not answer."
    assert ">42<" in live["html"] and "did not answer" in live["html"]
    bearer = services.sent("GET", "/api/ops/status/")[0].headers["Authorization"]
    assert bearer.startswith("Bearer ey")  # the staff member's own token


def test_the_stock_table_passes_the_level_filter_and_restocks(services, staff):
    services.answer(
        "inventory",
        "GET",
        "/api/products/",
        httpx.Response(200, json={"count": 1, "results": [PRODUCT]}),
    )
    restocked = {**PRODUCT, "available_quantity": 12, "stock_level": "in"}
    services.answer(
        "inventory",
        "POST",
        "/api/products/KEYBOARD-01/restock/",
        httpx.Response(200, json=restocked),
    )

    table = staff.get("/staff/stock/", {"stock": "low"}).content.decode()
    response = staff.post(
        "/staff/stock/KEYBOARD-01/restock/",
        {"quantity": "10", "next": "/staff/stock/?stock=low"},
        follow=True,
    )

    assert services.sent("GET", "/api/products/")[0].url.params["stock"] == "low"
    assert "KEYBOARD-01" in table and "Low stock" in table
    assert '<label for="restock-KEYBOARD-01">' in table
    [sent] = services.sent("POST", "/api/products/KEYBOARD-01/restock/")
    assert json.loads(sent.content) == {"quantity": 10}
    assert response.redirect_chain[-1][0] == "/staff/stock/?stock=low"
    assert "Received 10 units of KEYBOARD-01: 12 available now." in response.content.decode()


def test_a_restock_quantity_out_of_bounds_is_refused_before_any_call(services, staff):
    response = staff.post("/staff/stock/KEYBOARD-01/restock/", {"quantity": "0"}, follow=True)

    assert "KEYBOARD-01: Ensure this value is greater than or equal to 1." in (
        response.content.decode()
    )
    assert services.sent("POST", "/api/products/KEYBOARD-01/restock/") == []


def test_confirmed_orders_are_listed_with_a_ship_button_and_shipped(services, staff):
    services.answer(
        "order", "GET", "/api/orders/", httpx.Response(200, json={"count": 1, "results": [ORDER]})
    )
    services.answer(
        "order",
        "POST",
        f"/api/orders/{ORDER_ID}/ship/",
        httpx.Response(200, json={**ORDER, "status": "shipped"}),
    )

    listing = staff.get("/staff/orders/").content.decode()
    response = staff.post(f"/staff/orders/{ORDER_ID}/ship/", follow=True)

    assert services.sent("GET", "/api/orders/")[0].url.params["status"] == "confirmed"
    assert f'aria-label="Ship order {ORDER_ID}"' in listing
    assert len(services.sent("POST", f"/api/orders/{ORDER_ID}/ship/")) == 1
    assert f"Order {ORDER_ID} is shipped." in response.content.decode()


def test_shipping_an_order_the_service_refuses_shows_its_reason(services, staff):
    services.answer(
        "order",
        "POST",
        f"/api/orders/{ORDER_ID}/ship/",
        httpx.Response(409, json={"message": "Only confirmed orders ship.", "extra": {}}),
    )

    response = staff.post(f"/staff/orders/{ORDER_ID}/ship/", follow=True)

    assert f"Order {ORDER_ID} was not shipped: Only confirmed orders ship." in (
        response.content.decode()
    )


def test_an_orders_timeline_lists_its_events_and_an_unknown_order_is_a_404(services, staff):
    event = {
        "direction": "consumed",
        "event_id": "e-2",
        "event_type": "StockReservedIntegrationEvent",
        "occurred_at": "2026-12-03T14:00:01Z",
        "recorded_at": "2026-12-03T14:00:01Z",
        "producer": "inventory-service",
        "causation_id": "e-1",
        "caused_by": "OrderCreatedIntegrationEvent",
        "status": "processed",
        "published_at": None,
        "traceparent": "",
        "error": "",
    }
    services.answer(
        "order",
        "GET",
        f"/api/orders/{ORDER_ID}/timeline/",
        httpx.Response(200, json={"order_id": ORDER_ID, "status": "confirmed", "events": [event]}),
    )
    services.answer("order", "GET", f"/api/orders/{ORDER_ID}/", httpx.Response(200, json=ORDER))

    page = staff.get(f"/staff/orders/{ORDER_ID}/timeline/").content.decode()
    missing = staff.get("/staff/orders/00000000-0000-0000-0000-000000000000/timeline/")
    found = staff.get("/staff/orders/find/", {"order_id": ORDER_ID})
    bad = staff.get("/staff/orders/find/", {"order_id": "not-an-id"}, follow=True)

    assert "StockReservedIntegrationEvent" in page and "inventory-service" in page
    assert "Ship this order" in page
    assert missing.status_code == 404
    assert found["Location"] == f"/staff/orders/{ORDER_ID}/timeline/"
    assert "Enter a whole order id (a UUID)." in bad.content.decode()


def test_dead_letters_of_both_services_are_listed_and_replayed_at_their_service(services, staff):
    services.answer(
        "order",
        "GET",
        "/api/ops/dead-letters/",
        httpx.Response(200, json={"count": 1, "results": [LETTER]}),
    )
    services.answer(
        "inventory",
        "GET",
        "/api/ops/dead-letters/",
        httpx.Response(200, json={"count": 0, "results": []}),
    )
    services.answer(
        "order",
        "POST",
        "/api/ops/dead-letters/12/replay/",
        httpx.Response(200, json={**LETTER, "replay_count": 1}),
    )
    services.answer(
        "inventory",
        "POST",
        "/api/ops/dead-letters/12/replay/",
        httpx.Response(503, json={"message": "Kafka did not acknowledge the replay; try again."}),
    )

    page = staff.get("/staff/dead-letters/").content.decode()
    replayed = staff.post("/staff/dead-letters/order/12/replay/", follow=True)
    refused = staff.post("/staff/dead-letters/inventory/12/replay/", follow=True)
    unknown = staff.post("/staff/dead-letters/billing/12/replay/")

    assert "lines do not match the order" in page and 'aria-label="Replay order service' in page
    assert "Order service dead letter 12 replayed" in replayed.content.decode()
    assert (
        "Inventory service dead letter 12 was not replayed: Kafka did not take it."
        in refused.content.decode()
    )
    assert unknown.status_code == 404
    assert len(services.sent("POST", "/api/ops/dead-letters/12/replay/")) == 2
