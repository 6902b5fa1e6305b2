"""The cart: quantities by SKU in the session, bounded."""

import pytest

from storefront.shop.cart import MAX_LINE_QUANTITY, MAX_LINES, Cart


def test_adding_a_product_twice_adds_up_its_quantity():
    session = {}
    cart = Cart(session)

    cart.add("A-1")
    cart.add("A-1", 2)
    cart.add("B-2")

    assert Cart(session).lines == {"A-1": 3, "B-2": 1}  # what a reload reads back
    assert cart.count == 4
    assert cart.order_lines() == [{"sku": "A-1", "quantity": 3}, {"sku": "B-2", "quantity": 1}]


def test_a_quantity_of_zero_removes_the_line_and_quantities_are_capped():
    cart = Cart({})
    cart.add("A-1", 500)
    assert cart.lines == {"A-1": MAX_LINE_QUANTITY}

    cart.set("A-1", 0)

    assert cart.lines == {}


def test_setting_a_product_not_in_the_cart_adds_nothing():
    cart = Cart({})

    cart.set("NOT-THERE", 3)

    assert cart.lines == {}


def test_a_cart_holds_a_bounded_number_of_lines():
    cart = Cart({})
    for n in range(MAX_LINES):
        cart.add(f"SKU-{n}")

    with pytest.raises(ValueError, match="at most"):
        cart.add("ONE-MORE")
    cart.add("SKU-0")  # an existing line still grows

    assert len(cart.lines) == MAX_LINES


def test_clearing_empties_the_cart():
    session = {}
    cart = Cart(session)
    cart.add("A-1")

    cart.clear()

    assert cart.count == 0 and "cart" not in session
