"""Customer pages: each view reads its form, calls the API client, and renders; an API
failure becomes a message a person understands, never a blank page."""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from storefront.api_client import ApiError, ApiNotFound, ApiRejected, ApiUnauthorized, Product
from storefront.identity import api_for, login_required, sign_in, sign_out, signed_in
from storefront.shop.cart import cart_of
from storefront.shop.forms import (
    AddToCartForm,
    CartLineForm,
    CheckoutForm,
    LoginForm,
    RegisterForm,
)
from storefront.shop.order_status import CANCELLABLE_STATUSES, FINAL_STATUSES

SESSION_CHECKOUTS = "checkouts"  # idempotency key -> the order it placed


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 1000)) if raw.isdigit() else 1


def catalog(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    stock = request.GET.get("stock", "")
    stock = stock if stock in ("in", "low", "out") else ""
    context: dict[str, Any] = {"q": search, "stock": stock, "page": None}
    try:
        context["page"] = api_for(request).product_list(
            search=search,
            stock=stock,
            page=_page_number(request),
            page_size=settings.CATALOG_PAGE_SIZE,
        )
    except ApiNotFound:
        messages.info(request, "That page is past the end of the catalog.")
    except ApiError as error:
        messages.error(request, error.message)

    def page_link(number: int) -> str:
        return "?" + urlencode(
            {k: v for k, v in (("q", search), ("stock", stock), ("page", number)) if v}
        )

    if context["page"] is not None:
        page = context["page"]
        context["previous_url"] = page_link(page.number - 1) if page.has_previous else ""
        context["next_url"] = page_link(page.number + 1) if page.has_next else ""
    return render(request, "shop/catalog.html", context)


def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    try:
        product = api_for(request).product_get(sku=sku)
    except ApiNotFound as error:
        raise Http404("No such product.") from error
    except ApiError as error:
        messages.error(request, error.message)
        return render(request, "shop/product.html", {"product": None}, status=503)
    form = AddToCartForm(initial={"sku": product["sku"], "quantity": 1})
    return render(request, "shop/product.html", {"product": product, "form": form})


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a quantity from 1 to 99.")
        return redirect("shop:catalog")
    sku = form.cleaned_data["sku"]
    try:
        product = api_for(request).product_get(sku=sku)
        cart_of(request).add(product["sku"], form.cleaned_data["quantity"])
    except ApiNotFound:
        messages.error(request, "That product is no longer sold.")
    except (ApiError, ValueError) as error:
        messages.error(request, getattr(error, "message", str(error)))
    else:
        messages.success(request, f"Added {product['name']} to your cart.")
    return _back(request, reverse("shop:cart"))


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def _cart_rows(request: HttpRequest) -> tuple[list[dict[str, Any]], str]:
    """The cart's lines with their current product, and the total; unknown SKUs dropped."""
    cart = cart_of(request)
    api = api_for(request)
    rows = []
    total = Decimal(0)
    for sku, quantity in sorted(cart.lines.items()):
        try:
            product: Product = api.product_get(sku=sku)
        except ApiNotFound:
            cart.set(sku, 0)
            messages.info(request, f"{sku} is no longer sold and left your cart.")
            continue
        subtotal = Decimal(product["unit_price"]) * quantity
        total += subtotal
        rows.append({"product": product, "quantity": quantity, "subtotal": f"{subtotal:.2f}"})
    return rows, f"{total:.2f}"


@require_http_methods(["GET", "POST"])
def cart_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CartLineForm(request.POST)
        if form.is_valid():
            cart_of(request).set(form.cleaned_data["sku"], form.cleaned_data["quantity"])
            messages.success(request, "Your cart is updated.")
        else:
            messages.error(request, "Choose a quantity from 0 to 99.")
        return redirect("shop:cart")
    try:
        rows, total = _cart_rows(request)
    except ApiError as error:
        messages.error(request, error.message)
        rows, total = [], ""
    return render(request, "shop/cart.html", {"rows": rows, "total": total})


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = cart_of(request)
    if request.method == "GET":
        form = CheckoutForm.fresh()
    else:
        form = CheckoutForm(request.POST)
        if form.is_valid():
            key = str(form.cleaned_data["idempotency_key"])
            placed = request.session.get(SESSION_CHECKOUTS, {}).get(key)
            if placed:  # this checkout was placed already: the same order, not another
                return redirect("shop:order", order_id=placed)
            if cart.count:
                try:
                    order = api_for(request).order_create(
                        lines=cart.order_lines(),
                        shipping_address=form.cleaned_data["shipping_address"],
                        idempotency_key=key,
                    )
                except ApiRejected as error:
                    messages.error(request, error.message)
                except ApiUnauthorized:
                    raise
                except ApiError as error:
                    # The same form, with the same key, so that retrying places one order.
                    messages.error(request, f"{error.message} Your order was not placed yet.")
                else:
                    checkouts = request.session.get(SESSION_CHECKOUTS, {})
                    checkouts[key] = order["id"]
                    request.session[SESSION_CHECKOUTS] = dict(list(checkouts.items())[-20:])
                    cart.clear()
                    messages.success(request, "Thank you! Your order is placed.")
                    return redirect("shop:order", order_id=order["id"])
    if not cart.count:
        messages.info(request, "Your cart is empty.")
        return redirect("shop:cart")
    try:
        rows, total = _cart_rows(request)
    except ApiError as error:
        messages.error(request, error.message)
        rows, total = [], ""
    return render(request, "shop/checkout.html", {"form": form, "rows": rows, "total": total})


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    page = None
    try:
        page = api_for(request).order_list(page=_page_number(request))
    except ApiUnauthorized:
        raise
    except ApiError as error:
        messages.error(request, error.message)
    return render(request, "shop/orders.html", {"page": page})


@login_required
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    try:
        order = api_for(request).order_get(order_id=str(order_id))
    except ApiNotFound as error:
        raise Http404("No such order.") from error
    except ApiUnauthorized:
        raise
    except ApiError as error:
        messages.error(request, error.message)
        return render(request, "shop/order.html", {"order": None}, status=503)
    context = {
        "order": order,
        "is_final": order["status"] in FINAL_STATUSES,
        "can_cancel": order["status"] in CANCELLABLE_STATUSES,
    }
    return render(request, "shop/order.html", context)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    try:
        api_for(request).order_cancel(order_id=str(order_id))
    except ApiNotFound as error:
        raise Http404("No such order.") from error
    except ApiUnauthorized:
        raise
    except ApiError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Cancelling your order.")
    return redirect("shop:order", order_id=order_id)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("shop:catalog")


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tokens = api_for(request).token_obtain(**form.cleaned_data)
        except ApiUnauthorized:
            form.add_error(None, "That username and password do not match an account.")
        except ApiError as error:
            form.add_error(None, error.message)
        else:
            sign_in(request, tokens)
            user = signed_in(request)
            messages.success(request, f"Welcome, {user['username'] if user else ''}.")
            return HttpResponseRedirect(_safe_next(request))
    return render(request, "shop/login.html", {"form": form, "next": _safe_next(request)})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    sign_out(request)
    messages.success(request, "You are signed out.")
    return redirect("shop:catalog")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {
            "username": form.cleaned_data["username"],
            "password": form.cleaned_data["password"],
        }
        api = api_for(request)
        try:
            api.account_register(**credentials)
            tokens = api.token_obtain(**credentials)
        except ApiRejected as error:
            for field, errors in error.fields.items():
                form.add_error(field if field in form.fields else None, " ".join(errors))
            if not error.fields:
                form.add_error(None, error.message)
        except ApiError as error:
            form.add_error(None, error.message)
        else:
            sign_in(request, tokens)
            messages.success(request, f"Welcome, {credentials['username']}! Your account is ready.")
            return redirect("shop:catalog")
    return render(request, "shop/register.html", {"form": form})
