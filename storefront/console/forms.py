"""The console's forms: what staff type is checked here before any API is called."""

from django import forms

# The inventory API's bound on one restock.
RESTOCK_MAX_QUANTITY = 10_000_000

STOCK_LEVELS = [("", "Any"), ("low", "Low"), ("out", "Out of stock"), ("in", "In stock")]
ORDER_STATUSES = [
    ("confirmed", "Confirmed (to ship)"),
    ("pending", "Pending"),
    ("cancelling", "Cancelling"),
    ("shipped", "Shipped"),
    ("cancelled", "Cancelled"),
    ("rejected", "Rejected"),
    ("", "Any"),
]


class StockFilterForm(forms.Form):
    q = forms.CharField(label="Search SKU or name", required=False, max_length=100)
    stock = forms.ChoiceField(label="Stock level", choices=STOCK_LEVELS, required=False)


class RestockForm(forms.Form):
    quantity = forms.IntegerField(
        label="Units received", min_value=1, max_value=RESTOCK_MAX_QUANTITY
    )


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=ORDER_STATUSES, required=False)


class OrderFindForm(forms.Form):
    order_id = forms.UUIDField(
        label="Order id", error_messages={"invalid": "Enter a whole order id (a UUID)."}
    )
