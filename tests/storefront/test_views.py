"""Pages say what went wrong in words, and a failed checkout can be retried as the same order."""

import re
import uuid

import httpx
import jwt
import pytest

from storefront.api_client import ApiClient
from storefront.identity import SESSION_TOKENS
from storefront.shop import views
from storefront.shop.cart import SESSION_CART


def answering(monkeypatch, handler) -> list[httpx.Request]:
    """Every page's API client answers with `handler`; the requests it got."""
    seen: list[httpx.Request] = []
    original = views.api_for

    def recorded(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    def api_for(request) -> ApiClient:
        client = original(request)
        client.http = httpx.Client(transport=httpx.MockTransport(recorded))
        return client

    monkeypatch.setattr(views, "api_for", api_for)
    return seen


@pytest.fixture
def signed_in(client):
    access = jwt.encode(
        {"user_id": "7", "username": "ann", "is_staff": False},
        "a-test-key-of-thirty-two-bytes!!",
        "HS256",
    )
    session = client.session
    session[SESSION_TOKENS] = {"access": access, "refresh": "r"}
    session[SESSION_CART] = {"A-1": 2}
    session.save()
    return client


def test_the_catalog_says_so_when_the_shop_cannot_be_reached(client, monkeypatch):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    answering(monkeypatch, refuse)

    page = client.get("/")

    assert page.status_code == 200
    assert "cannot be reached just now" in page.content.decode()


def test_the_catalog_says_how_long_to_wait_after_a_429(client, monkeypatch):
    answering(monkeypatch, lambda r: httpx.Response(429, headers={"Retry-After": "30"}))

    page = client.get("/")

    assert "Too many requests. Please wait 30 seconds and try again." in page.content.decode()


def test_a_checkout_that_failed_is_offered_again_with_the_same_key(signed_in, monkeypatch):
    def answer(request):
        if request.url.path.startswith("/api/products/"):
            return httpx.Response(200, json={"sku": "A-1", "name": "A", "unit_price": "2.00"})
        return httpx.Response(503, text="unavailable")

    seen = answering(monkeypatch, answer)
    key = str(uuid.uuid4())

    page = signed_in.post(
        "/checkout/", {"shipping_address": "1 Road", "idempotency_key": key}, follow=True
    )

    text = page.content.decode()
    assert "Your order was not placed yet." in text
    assert re.search(rf'name="idempotency_key" value="{key}"', text)
    [placed] = [r for r in seen if r.url.path == "/api/orders/"]
    assert placed.headers["Idempotency-Key"] == key


def test_a_checkout_already_placed_leads_to_its_order_not_to_another(signed_in, monkeypatch):
    order_id = str(uuid.uuid4())
    seen = answering(monkeypatch, lambda r: httpx.Response(201, json={"id": order_id}))
    form = {"shipping_address": "1 Road", "idempotency_key": str(uuid.uuid4())}

    first = signed_in.post("/checkout/", form)
    again = signed_in.post("/checkout/", form)

    assert first.url == again.url == f"/orders/{order_id}/"
    assert [r.url.path for r in seen] == ["/api/orders/"]


def test_order_pages_ask_an_anonymous_visitor_to_sign_in(client):
    page = client.get("/orders/")

    assert page.status_code == 302
    assert page.url.startswith("/accounts/login/?next=")


def test_the_checkout_form_carries_a_new_key_each_time_it_is_rendered(signed_in, monkeypatch):
    answering(
        monkeypatch,
        lambda r: httpx.Response(200, json={"sku": "A-1", "name": "A", "unit_price": "2.00"}),
    )

    keys = [
        re.search(
            r'name="idempotency_key" value="([0-9a-f-]{36})"',
            signed_in.get("/checkout/").content.decode(),
        )[1]
        for _ in range(2)
    ]

    assert keys[0] != keys[1]
