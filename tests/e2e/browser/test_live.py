"""The live order page holds a stream through the gateway; the status moves with no page
load, and the page recovers by itself when the server of its stream dies."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from manage_scripts.stack.gateway import gateway_server_rows
from tests.e2e.browser.conftest import add_to_cart, check_out, sign_in

STOREFRONT_INSTANCES = ("storefront-1", "storefront-2")


@pytest.fixture
def expected_console_errors(stack):
    # Chromium itself reports the stream cut by the kill, and the gateway's 503 while no
    # instance is up; the page's script logs nothing.
    stream = r"\(http://[^ ]+/orders/[0-9a-f-]{36}/stream(\?[^ ]*)?\)$"
    return [
        re.compile(
            r"net::ERR_(CONNECTION_REFUSED|INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|"
            r"CONNECTION_RESET) " + stream
        ),
        re.compile(r"status of 503 \(Service Unavailable\) " + stream),
        re.compile(r"EventSource's response has a (status|MIME type)[^(]* " + stream),
    ]


def _stream_instance(stack) -> str:
    """The storefront instance serving the page's stream: the one session that stays open."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = gateway_server_rows(stack.gateway_stats())
        holding = [
            r["svname"] for r in rows if r["svname"] in STOREFRONT_INSTANCES and int(r["scur"] or 0)
        ]
        if len(holding) == 1:
            return f"apps:storefront-web-{holding[0].rsplit('-', 1)[1]}"
        time.sleep(0.2)
    raise AssertionError("no single storefront instance holds the stream")


def _placed_order(page: Page, storefront: str, product, customer) -> str:
    """Sign in, buy one product; the order's id, once its page shows it confirmed."""
    sign_in(page, storefront, customer)
    add_to_cart(page, storefront, product())
    streams = []
    page.on("request", lambda r: streams.append(r.url) if "/stream" in r.url else None)
    order_url = check_out(page, storefront)
    order_id = order_url.rstrip("/").rsplit("/", 1)[1]
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#order-status")).to_have_text("confirmed")
    expect(page.locator("#order-live")).to_have_attribute("data-stream", "open")
    assert streams and all(f"/orders/{order_id}/stream" in url for url in streams)
    return order_id


def test_the_page_follows_the_order_and_outlives_the_instance_of_its_stream(
    page: Page, stack, storefront, product, customer
):
    order_id = _placed_order(page, storefront, product, customer)

    # The instance serving the stream dies (SIGKILL) and stays down while the order moves on:
    # the page reconnects through the gateway to the other instance.
    instance = _stream_instance(stack)
    stack.supervise("signal", "KILL", instance)
    stack.supervise("stop", instance)
    try:
        assert customer.post(f"/api/orders/{order_id}/cancel/").status_code == 202
        expect(page.locator("#order-status")).to_have_text("cancelled")
        expect(page.locator("#connection")).to_be_hidden()
        assert page.evaluate("window.sameDocument") is True
    finally:
        stack.supervise("start", instance)


def test_with_no_instance_left_the_page_says_so_and_then_catches_up(
    page: Page, stack, storefront, product, customer
):
    order_id = _placed_order(page, storefront, product, customer)

    # Every storefront instance stops while the order moves on.
    instances = [f"apps:storefront-web-{n}" for n in (1, 2)]
    stack.supervise("signal", "KILL", *instances)
    stack.supervise("stop", *instances)
    try:
        assert customer.post(f"/api/orders/{order_id}/cancel/").status_code == 202
        expect(page.locator("#connection")).to_be_visible()
        expect(page.locator("#connection")).to_contain_text("Connection lost")
    finally:
        stack.supervise("start", *instances)

    # Once they are back, the page reconnects and catches up on what it missed.
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#connection")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True
