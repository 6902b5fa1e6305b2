"""The storefront at a phone's viewport (390x844): every main page fits its width."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import add_to_cart, check_out, sign_in

PHONE = {"width": 390, "height": 844}


def assert_fits_the_width(page: Page) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{page.url} scrolls sideways: {scroll_width} > {inner_width}"
    )


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


def test_every_main_page_fits_a_phone_screen(
    phone: Page, storefront, product, customer, artifacts_dir
):
    item = product(price="1234567.89")  # a long price and name, the widest a card gets
    for path in ("/", "/accounts/login/", "/accounts/register/", f"/products/{item['sku']}/"):
        phone.goto(f"{storefront}{path}")
        assert_fits_the_width(phone)
    sign_in(phone, storefront, customer)
    add_to_cart(phone, storefront, item)
    for path in ("/cart/", "/checkout/"):
        phone.goto(f"{storefront}{path}")
        assert_fits_the_width(phone)
    check_out(phone, storefront)
    expect(phone.locator("#order-status")).to_have_text("confirmed")
    assert_fits_the_width(phone)
    phone.screenshot(path=artifacts_dir / "storefront-phone-order.png", full_page=True)
    phone.goto(f"{storefront}/orders/")
    assert_fits_the_width(phone)
    phone.goto(f"{storefront}/")
    assert_fits_the_width(phone)
    phone.screenshot(path=artifacts_dir / "storefront-phone.png", full_page=True)
    assert (artifacts_dir / "storefront-phone.png").stat().st_size > 0
