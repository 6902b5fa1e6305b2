"""Staff in the browser: restock a product, ship a confirmed order and see it shipped, watch
the live overview; a customer cannot open the console."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import sign_in
from tests.e2e.browser.test_phone import PHONE, assert_fits_the_width


@pytest.fixture
def staff(inventory):
    """The e2e stack's demo account, a superuser: staff."""
    return inventory


def test_staff_restock_a_product_and_ship_a_confirmed_order(
    page: Page, storefront, product, customer, staff
):
    # given a product a customer's confirmed order took the last unit of
    item = product(quantity=1, threshold=2)
    placed = customer.post("/api/orders/", {"lines": [{"sku": item["sku"], "quantity": 1}]})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    customer.wait_for(f"/api/orders/{order_id}/", lambda o: o["status"] == "confirmed")
    sign_in(page, storefront, staff)

    # when staff filter the stock table to what is out, and restock it
    page.get_by_role("link", name="Staff").click()
    console = page.get_by_role("navigation", name="Staff console")
    console.get_by_role("link", name="Stock").click()
    page.get_by_label("Search SKU or name").fill(item["sku"])
    page.get_by_label("Stock level").select_option("out")
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f'tr[data-sku="{item["sku"]}"]')
    expect(row).to_contain_text("Out of stock")
    page.get_by_label(f"Units of {item['sku']}").fill("5")
    page.get_by_role("button", name="Restock").click()

    # then the table shows the units received, under the filter it was on
    expect(page.get_by_text(f"Received 5 units of {item['sku']}: 5 available now.")).to_be_visible()
    expect(row).to_have_count(0)  # no longer out of stock
    page.get_by_label("Stock level").select_option("in")
    page.get_by_role("button", name="Filter").click()
    expect(row.locator(".available")).to_have_text("5")

    # when staff ship the confirmed order from the orders page
    console.get_by_role("link", name="Orders").click()
    page.get_by_role("button", name=f"Ship order {order_id}").click()

    # then it is shipped, and its timeline says so
    expect(page.get_by_text(f"Order {order_id} is shipped.")).to_be_visible()
    page.get_by_label("Order id").fill(order_id)
    page.get_by_role("button", name="Show timeline").click()
    expect(page.locator("#order-status")).to_have_text("shipped")
    expect(page.get_by_role("cell", name="OrderCreatedIntegrationEvent").first).to_be_visible()
    assert customer.get(f"/api/orders/{order_id}/").json()["status"] == "shipped"


def test_the_overview_refreshes_itself_and_the_console_fits_a_phone(
    page: Page, storefront, staff, artifacts_dir
):
    sign_in(page, storefront, staff)
    page.goto(f"{storefront}/staff/")
    page.evaluate("window.sameDocument = true")

    # the panels come back from the console's status endpoint every 2 s, with no page load
    expect(page.locator("#live-updated")).to_contain_text("Updated", timeout=10_000)
    expect(page.get_by_role("heading", name="Order service")).to_be_visible()
    expect(page.get_by_role("heading", name="Inventory service")).to_be_visible()
    expect(page.locator("#live-status caption").first).to_have_text("Consumer lag")
    assert page.evaluate("window.sameDocument") is True
    # The README's docs/images/staff-console.png is this one.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=artifacts_dir / "staff-console.png", full_page=True)
    assert (artifacts_dir / "staff-console.png").stat().st_size > 0

    page.set_viewport_size(PHONE)
    for path in ("/staff/", "/staff/stock/", "/staff/orders/", "/staff/dead-letters/"):
        page.goto(f"{storefront}{path}")
        assert_fits_the_width(page)


# The browser reports the console's 403 answer itself; that is the point of this test.
@pytest.mark.parametrize("expected_console_errors", [[re.compile(r"status of 403")]])
def test_a_customer_cannot_open_the_console(
    page: Page, storefront, customer, expected_console_errors
):
    sign_in(page, storefront, customer)
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)

    response = page.goto(f"{storefront}/staff/")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert page.goto(f"{storefront}/staff/stock/").status == 403
