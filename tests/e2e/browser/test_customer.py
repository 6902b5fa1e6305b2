"""A customer in the browser: register, shop, check out, follow the order, cancel."""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import add_to_cart, check_out, sign_in


def test_a_new_customer_buys_two_products_sees_them_confirmed_live_and_cancels(
    page: Page, storefront, product
):
    first, second = product(price="12.50"), product(price="3.25")
    username = f"shopper-{uuid.uuid4().hex[:8]}"
    page.goto(f"{storefront}/accounts/register/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("a long password 42")
    page.get_by_label("Password (again)").fill("a long password 42")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text(f"Welcome, {username}!")).to_be_visible()

    add_to_cart(page, storefront, first)
    add_to_cart(page, storefront, second)
    page.reload()  # the cart lives in the session
    expect(page.get_by_role("link", name=re.compile(r"Cart.*\(2\)"))).to_be_visible()
    check_out(page, storefront)

    # No navigation from here on: the stream moves the page.
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#order-status")).to_have_text("confirmed")
    expect(page.locator("#order-total")).to_have_text("Total: €15.75")
    assert page.evaluate("window.sameDocument") is True

    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#order-status")).to_have_text("cancelled")
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator(".order-row")).to_have_count(1)
    expect(page.locator(".order-row")).to_contain_text("cancelled")


def test_an_order_for_more_than_the_stock_shows_why_it_was_rejected(
    page: Page, storefront, product, customer
):
    scarce = product(quantity=1)
    sign_in(page, storefront, customer)
    add_to_cart(page, storefront, scarce)
    page.goto(f"{storefront}/cart/")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_label("Quantity")).to_have_value("3")

    check_out(page, storefront)

    expect(page.locator("#order-status")).to_have_text("rejected")
    reason = page.locator("#order-reason")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text(re.compile(r"stock|available", re.IGNORECASE))


def test_a_checkout_submitted_twice_places_one_order(page: Page, storefront, product, customer):
    sign_in(page, storefront, customer)
    add_to_cart(page, storefront, product())
    page.goto(f"{storefront}/checkout/")
    page.get_by_label("Shipping address").fill("2 Retry Road")

    # A double click, as two requests that both leave before either returns.
    statuses = page.evaluate(
        """async () => {
            const form = document.getElementById("checkout-form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const responses = await Promise.all([send(), send()]);
            return responses.map((r) => r.status);
        }"""
    )

    assert statuses == [200, 200]
    assert customer.get("/api/orders/").json()["count"] == 1
