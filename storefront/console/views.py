"""The staff console: each view reads its form, calls the API client with the staff member's
own token, and renders; the services check again that the caller is staff. An API failure
becomes a message, never a blank page."""

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from storefront.api_client import ApiClient, ApiError, ApiNotFound, ApiUnavailable
from storefront.console.forms import OrderFilterForm, OrderFindForm, RestockForm, StockFilterForm
from storefront.identity import api_for, staff_required

# The services whose messaging the console shows, by the API client's name for them.
SERVICES = {"order": "Order service", "inventory": "Inventory service"}
STOCK_PAGE_SIZE = 25
ORDERS_PAGE_SIZE = 25
DEAD_LETTERS_PAGE_SIZE = 20


def _page_number(request: HttpRequest, name: str = "page") -> int:
    raw = request.GET.get(name, "1")
    return max(1, min(int(raw), 1000)) if raw.isdigit() else 1


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (its filters kept), if it is on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def services_status(api: ApiClient) -> list[dict[str, Any]]:
    """Each service's ops status, or why it could not be read."""
    found = []
    for service, label in SERVICES.items():
        entry: dict[str, Any] = {"service": service, "label": label}
        try:
            entry["status"] = api.ops_status(service=service)
        except ApiUnavailable:
            entry["error"] = f"The {label.lower()} did not answer."
        except ApiError as error:
            entry["error"] = error.message
        found.append(entry)
    return found


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "console/overview.html", {"services": services_status(api_for(request))})


@staff_required
def status_json(request: HttpRequest) -> HttpResponse:
    """What the overview polls every two seconds: the figures, and the panels that show
    them (rendered by the overview's own template, so the page has one renderer)."""
    services = services_status(api_for(request))
    panels = render_to_string("console/status_panels.html", {"services": services}, request)
    return JsonResponse({"services": services, "html": panels})


@staff_required
def stock(request: HttpRequest) -> HttpResponse:
    form = StockFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {"q": "", "stock": ""}
    context: dict[str, Any] = {"form": form, "page": None}
    try:
        context["page"] = api_for(request).product_list(
            search=filters["q"].strip(),
            stock=filters["stock"],
            page=_page_number(request),
            page_size=STOCK_PAGE_SIZE,
        )
    except ApiNotFound:
        messages.info(request, "That page is past the end of the list.")
    except ApiError as error:
        messages.error(request, error.message)
    context["query"] = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "console/stock.html", context)


@staff_required
@require_POST
def restock(request: HttpRequest, sku: str) -> HttpResponse:
    form = RestockForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{sku}: " + " ".join(str(e) for e in form.errors["quantity"]))
        return _back(request, reverse("console:stock"))
    quantity = form.cleaned_data["quantity"]
    try:
        product = api_for(request).product_restock(sku=sku, quantity=quantity)
    except ApiError as error:
        messages.error(request, f"{sku} was not restocked: {error.message}")
    else:
        messages.success(
            request,
            f"Received {quantity} units of {product['sku']}: "
            f"{product['available_quantity']} available now.",
        )
    return _back(request, reverse("console:stock"))


@staff_required
def orders(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or {"status": "confirmed"})
    status = form.cleaned_data["status"] if form.is_valid() else "confirmed"
    context: dict[str, Any] = {
        "form": form,
        "find": OrderFindForm(),
        "page": None,
        "status": status,
        "query": urlencode({"status": status}),
    }
    try:
        context["page"] = api_for(request).order_list(
            status=status, page=_page_number(request), page_size=ORDERS_PAGE_SIZE
        )
    except ApiNotFound:
        messages.info(request, "That page is past the end of the list.")
    except ApiError as error:
        messages.error(request, error.message)
    return render(request, "console/orders.html", context)


@staff_required
def order_find(request: HttpRequest) -> HttpResponse:
    form = OrderFindForm(request.GET)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["order_id"]))
        return redirect("console:orders")
    return redirect("console:timeline", order_id=form.cleaned_data["order_id"])


@staff_required
@require_POST
def ship(request: HttpRequest, order_id: UUID) -> HttpResponse:
    try:
        order = api_for(request).order_ship(order_id=str(order_id))
    except ApiError as error:
        messages.error(request, f"Order {order_id} was not shipped: {error.message}")
    else:
        messages.success(request, f"Order {order['id']} is {order['status']}.")
    return _back(request, reverse("console:orders"))


@staff_required
def timeline(request: HttpRequest, order_id: UUID) -> HttpResponse:
    api = api_for(request)
    try:
        found = api.order_timeline(order_id=str(order_id))
        order = api.order_get(order_id=str(order_id))
    except ApiNotFound as error:
        raise Http404("No such order.") from error
    except ApiError as error:
        messages.error(request, error.message)
        return render(request, "console/timeline.html", {"order_id": order_id}, status=503)
    return render(
        request,
        "console/timeline.html",
        {"order_id": order_id, "order": order, "events": found["events"]},
    )


@staff_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    api = api_for(request)
    sections = []
    for service, label in SERVICES.items():
        section: dict[str, Any] = {"service": service, "label": label, "page": None}
        number = _page_number(request, f"{service}_page")
        try:
            page = api.dead_letter_list(
                service=service, page=number, page_size=DEAD_LETTERS_PAGE_SIZE
            )
        except ApiNotFound:
            section["error"] = "That page is past the end of the list."
        except ApiError as error:
            section["error"] = error.message
        else:
            section["page"] = page
            others = {f"{s}_page": request.GET.get(f"{s}_page", "") for s in SERVICES}
            section["previous_url"] = _with(others, f"{service}_page", number - 1)
            section["next_url"] = _with(others, f"{service}_page", number + 1)
        sections.append(section)
    return render(request, "console/dead_letters.html", {"sections": sections})


def _with(params: dict[str, str], name: str, value: int) -> str:
    return "?" + urlencode({k: v for k, v in {**params, name: str(value)}.items() if v})


@staff_required
@require_POST
def replay(request: HttpRequest, service: str, letter_id: int) -> HttpResponse:
    if service not in SERVICES:
        raise Http404("No such service.")
    where = f"{SERVICES[service]} dead letter {letter_id}"
    try:
        letter = api_for(request).dead_letter_replay(service=service, letter_id=letter_id)
    except ApiUnavailable:
        messages.error(request, f"{where} was not replayed: Kafka did not take it. Try again.")
    except ApiError as error:
        messages.error(request, f"{where} was not replayed: {error.message}")
    else:
        messages.success(
            request,
            f"{where} replayed ({letter['event_type'] or 'undecodable message'}), "
            f"{letter['replay_count']} time(s) so far.",
        )
    return _back(request, reverse("console:dead-letters"))
