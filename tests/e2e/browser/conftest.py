"""Browser tests: Debian's chromium driven by pytest-playwright, against the e2e stack.

The browser is launched by its path; no browser is ever downloaded (no `playwright install`).
Every test fails on any console error or uncaught page error.
"""

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from manage_scripts.stack.config import ROOT
from tests.support.stack import Api

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Waits are for a text or an element, with a deadline; the saga settles within seconds.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("CI_ARTIFACTS_DIR") or ROOT / ".run" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def expected_console_errors() -> list[re.Pattern[str]]:
    """Console errors a test causes on purpose (the browser's own report of a server it
    killed), matched against "<text> (<url>)"; anything else fails the test."""
    return []


@pytest.fixture(autouse=True)
def console_errors_fail_the_test(page: Page, expected_console_errors):
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        said = f"{message.text} ({message.location.get('url', '')})"
        if message.type == "error" and not any(p.search(said) for p in expected_console_errors):
            errors.append(f"console error: {said}")

    def on_page_error(error: Error) -> None:
        errors.append(f"page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield
    assert not errors, "\n".join(errors)


@pytest.fixture
def storefront(stack) -> str:
    """Where a person opens the shop: the gateway, in front of the storefront's instances."""
    return stack.gateway_url


@pytest.fixture
def product(inventory):
    """A new product; its name is unique, so a catalog search finds just it."""

    def create(*, quantity: int = 20, price: str = "9.50", threshold: int = 2) -> dict:
        sku = f"WEB-{uuid.uuid4().hex[:10].upper()}"
        body = {
            "sku": sku,
            "name": f"Item {sku.lower()}",
            "unit_price": price,
            "available_quantity": quantity,
            "low_stock_threshold": threshold,
        }
        response = inventory.post("/api/products/", body)
        assert response.status_code == 201, response.text
        return body

    return create


@pytest.fixture
def customer(stack) -> Api:
    """A new customer account (made through the API; the browser signs in with it)."""
    return Api.registered(stack.order_url, username=f"web-{uuid.uuid4().hex[:10]}")


def sign_in(page: Page, storefront: str, customer: Api) -> None:
    page.goto(f"{storefront}/accounts/login/")
    page.get_by_label("Username").fill(customer.username)
    page.get_by_label("Password").fill(customer.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()


def add_to_cart(page: Page, storefront: str, product: dict) -> None:
    page.goto(f"{storefront}/?q={product['sku']}")
    page.get_by_role("button", name=f"Add {product['name']} to cart").click()
    expect(page.get_by_text(f"Added {product['name']} to your cart.")).to_be_visible()


def check_out(page: Page, storefront: str, address: str = "1 Saga Street, Kafkaville") -> str:
    """Place the cart's order; the order page's URL."""
    page.goto(f"{storefront}/cart/")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Shipping address").fill(address)
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))
    return page.url
