"""The live order page holds a stream; the status moves with no page load, and the page
recovers by itself when the server of its stream dies."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import add_to_cart, check_out, sign_in

STOREFRONT_WEB = "apps:storefront-web-1"  # the instance the browser talks to


@pytest.fixture
def expected_console_errors(stack):
    # Chromium itself reports the stream cut by the kill and its refused reconnections while
    # the server is down; the page's script logs nothing.
    return [
        re.compile(
            r"net::ERR_(CONNECTION_REFUSED|INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|"
            r"CONNECTION_RESET) \(http://[^ ]+/orders/[0-9a-f-]{36}/stream(\?[^ ]*)?\)$"
        )
    ]


def test_the_page_follows_the_order_through_a_stream_and_recovers_after_its_server_dies(
    page: Page, stack, storefront, product, customer
):
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

    # The stream's server dies (SIGKILL) and stays down while the order moves on.
    stack.supervise("signal", "KILL", STOREFRONT_WEB)
    stack.supervise("stop", STOREFRONT_WEB)
    assert customer.post(f"/api/orders/{order_id}/cancel/").status_code == 202
    expect(page.locator("#connection")).to_be_visible()
    expect(page.locator("#connection")).to_contain_text("Connection lost")

    stack.supervise("start", STOREFRONT_WEB)

    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#connection")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True
