"""The cart: SKUs and quantities in the session (so it survives a reload), nothing else.

Prices and names are read from the catalog when the cart is shown, never trusted from here.
"""

from collections.abc import Mapping, MutableMapping
from typing import Any

from django.http import HttpRequest

SESSION_CART = "cart"
# The order API's per-line limit is far higher; a shop cart needs no more.
MAX_LINE_QUANTITY = 99
MAX_LINES = 50


class Cart:
    """Quantities by SKU, kept in `store` (a session)."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store

    @property
    def lines(self) -> dict[str, int]:
        raw = self.store.get(SESSION_CART) or {}
        return {str(sku): int(quantity) for sku, quantity in raw.items()}

    def _save(self, lines: Mapping[str, int]) -> None:
        self.store[SESSION_CART] = dict(lines)

    def add(self, sku: str, quantity: int = 1) -> None:
        lines = self.lines
        if sku not in lines and len(lines) >= MAX_LINES:
            raise ValueError(f"A cart holds at most {MAX_LINES} different products.")
        lines[sku] = min(lines.get(sku, 0) + max(quantity, 1), MAX_LINE_QUANTITY)
        self._save(lines)

    def set(self, sku: str, quantity: int) -> None:
        """Set a line's quantity; zero or less removes it."""
        lines = self.lines
        if quantity <= 0:
            lines.pop(sku, None)
        elif sku in lines:
            lines[sku] = min(quantity, MAX_LINE_QUANTITY)
        self._save(lines)

    def clear(self) -> None:
        self.store.pop(SESSION_CART, None)

    @property
    def count(self) -> int:
        return sum(self.lines.values())

    def order_lines(self) -> list[dict[str, Any]]:
        """The lines in the order API's shape, in a stable order."""
        return [{"sku": sku, "quantity": q} for sku, q in sorted(self.lines.items())]


def cart_of(request: HttpRequest) -> Cart:
    return Cart(request.session)


def cart_context(request: HttpRequest) -> dict[str, Any]:
    return {"cart_count": cart_of(request).count}
