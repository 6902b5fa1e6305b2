"""The storefront's forms: each field labelled, checked here before any API call."""

import uuid

from django import forms

from storefront.shop.cart import MAX_LINE_QUANTITY


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RegisterForm(forms.Form):
    username = forms.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password (again)",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class AddToCartForm(forms.Form):
    sku = forms.CharField(max_length=40, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)


class CartLineForm(forms.Form):
    sku = forms.CharField(max_length=40, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class CheckoutForm(forms.Form):
    """The shipping address, and the key that makes this checkout place one order however
    often it is submitted (a double click, a retry after an error)."""

    shipping_address = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    @classmethod
    def fresh(cls) -> "CheckoutForm":
        """A new checkout: a new key, made once when the form is rendered."""
        return cls(initial={"idempotency_key": uuid.uuid4()})
