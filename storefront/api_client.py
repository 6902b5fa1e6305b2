"""The one client of the services' APIs, called server side with the user's bearer token.

Every failure becomes an `ApiError` whose `message` a person understands; the views show it.
An expired access token is refreshed once with the refresh token, and the new one is handed
to `on_refresh` (the session keeps it).
"""

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypedDict, TypeVar

import httpx
from django.conf import settings

from storefront.request_ids import (
    FORWARDED_FOR_HEADER,
    REQUEST_ID_HEADER,
    current_client_address,
    current_request_id,
)

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A call that did not succeed; `message` is fit to show to a person."""

    message = "Something went wrong. Please try again."

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.status = status


class ApiUnavailable(ApiError):
    """The service could not be reached, timed out or failed (a 5xx)."""

    message = "The shop cannot be reached just now. Please try again in a moment."


class ApiRateLimited(ApiError):
    message = "Too many requests. Please wait a moment and try again."

    def __init__(self, *, retry_after: int | None = None) -> None:
        wait = f" Please wait {retry_after} seconds and try again." if retry_after else ""
        super().__init__(f"Too many requests.{wait}" if wait else None, status=429)
        self.retry_after = retry_after


class ApiUnauthorized(ApiError):
    """No valid credentials: the user must sign in (again)."""

    message = "Please sign in again."


class ApiForbidden(ApiError):
    message = "You are not allowed to do that."


class ApiNotFound(ApiError):
    message = "Not found."


class ApiRejected(ApiError):
    """A request the service refused (400, 409, 422): its message and field errors."""

    def __init__(self, message: str, *, status: int, fields: dict[str, list[str]]) -> None:
        super().__init__(message, status=status)
        self.fields = fields


@dataclasses.dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str


class OrderLine(TypedDict):
    sku: str
    quantity: int
    unit_price: str | None


class Order(TypedDict):
    id: str
    customer_id: str
    status: str
    status_reason: str
    total_amount: str | None
    lines: list[OrderLine]
    shipping_address: str
    note: str
    created_at: str
    updated_at: str


class Product(TypedDict):
    sku: str
    name: str
    unit_price: str
    available_quantity: int
    reserved_quantity: int
    sold_quantity: int
    low_stock_threshold: int
    is_low: bool
    updated_at: str


class TimelineEvent(TypedDict):
    direction: str  # published | consumed | dead-lettered
    event_id: str
    event_type: str
    occurred_at: str | None
    recorded_at: str
    producer: str
    causation_id: str | None
    caused_by: str | None
    status: str
    published_at: str | None
    traceparent: str
    error: str


class OrderTimeline(TypedDict):
    order_id: str
    status: str
    events: list[TimelineEvent]


class OutboxBacklog(TypedDict):
    pending: int
    failed: int
    oldest_pending_age_seconds: float


class TopicLag(TypedDict):
    topic: str
    lag: int


class GroupLag(TypedDict):
    group: str
    state: str
    members: int
    lag: int
    topics: list[TopicLag]


class KafkaLag(TypedDict):
    reachable: bool
    error: str
    groups: list[GroupLag]


class DeadLetterCounts(TypedDict):
    unreplayed: int
    total: int


class OpsStatus(TypedDict):
    service: str
    checked_at: str
    outbox: OutboxBacklog
    dead_letters: DeadLetterCounts
    kafka: KafkaLag


class DeadLetter(TypedDict):
    id: int
    topic: str
    partition: int
    offset: int
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    consumer_group: str
    error_class: str
    error_message: str
    attempts: int
    failed_at: str | None
    event_id: str
    event_type: str
    correlation_id: str
    key_text: str
    value_text: str
    received_at: str
    replay_count: int
    replayed_at: str | None
    last_replay_error: str


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    count: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.size)) if self.size else 1

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def error_of(response: httpx.Response) -> ApiError:
    """The ApiError for a response that is not a success."""
    status = response.status_code
    if status == 429:
        retry_after = response.headers.get("Retry-After", "")
        return ApiRateLimited(retry_after=int(retry_after) if retry_after.isdigit() else None)
    if status >= 500:
        return ApiUnavailable(status=status)
    body = _json_or_none(response)
    message = body.get("message") or body.get("detail") if isinstance(body, dict) else None
    if status == 401:
        return ApiUnauthorized(status=status)
    if status == 403:
        return ApiForbidden(str(message) if message else None, status=status)
    if status == 404:
        return ApiNotFound(str(message) if message else None, status=status)
    fields = _field_errors(body)
    if not message:
        message = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in fields.items())
    return ApiRejected(str(message or "The request was refused."), status=status, fields=fields)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _field_errors(body: Any) -> dict[str, list[str]]:
    """DRF's field errors (`{"field": ["..."]}`), flattened one level for nested lists."""
    if not isinstance(body, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for name, errors in body.items():
        if name in ("message", "extra", "detail"):
            continue
        if isinstance(errors, list):
            fields[name] = [_text(e) for e in errors if e]
        else:
            fields[name] = [_text(errors)]
    return fields


def _text(error: Any) -> str:
    if isinstance(error, dict):
        return " ".join(f"{k}: {_text(v)}" for k, v in error.items())
    if isinstance(error, list):
        return " ".join(_text(e) for e in error)
    return str(error)


class ApiClient:
    """The order and inventory APIs for one user (or anonymously, without tokens)."""

    def __init__(
        self,
        *,
        tokens: Tokens | None = None,
        on_refresh: Callable[[Tokens], None] | None = None,
        order_url: str | None = None,
        inventory_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.tokens = tokens
        self.on_refresh = on_refresh
        self.base_urls = {
            "order": (order_url or settings.ORDER_API_URL).rstrip("/"),
            "inventory": (inventory_url or settings.INVENTORY_API_URL).rstrip("/"),
        }
        self.http = httpx.Client(timeout=settings.API_TIMEOUT_SECONDS, transport=transport)

    # The one place every call goes through.
    def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """Call `service`'s `path`; the decoded JSON body, or an ApiError."""
        response = self._send(method, service, path, json, params, headers, authenticated)
        if response.status_code == 401 and authenticated and self._refresh():
            response = self._send(method, service, path, json, params, headers, authenticated)
        if response.is_success:
            return _json_or_none(response) if response.content else None
        raise error_of(response)

    def _send(
        self,
        method: str,
        service: str,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        authenticated: bool,
    ) -> httpx.Response:
        context = {
            REQUEST_ID_HEADER: current_request_id.get(),
            FORWARDED_FOR_HEADER: current_client_address.get(),
        }
        sent = {name: value for name, value in context.items() if value}
        sent.update(headers or {})
        if authenticated and self.tokens is not None:
            sent["Authorization"] = f"Bearer {self.tokens.access}"
        url = f"{self.base_urls[service]}{path}"
        try:
            try:
                return self.http.request(method, url, json=json, params=params, headers=sent)
            except httpx.TransportError as exc:
                # An answer cut mid-way (its instance died after the gateway had begun to
                # forward it) is past the gateway's retries; a GET is safe to ask once more.
                if method != "GET" or isinstance(exc, httpx.TimeoutException):
                    raise
                logger.warning("%s %s cut off, asking again: %s", method, url, exc)
                return self.http.request(method, url, json=json, params=params, headers=sent)
        except httpx.HTTPError as exc:
            logger.warning("%s %s failed: %s", method, url, exc)
            raise ApiUnavailable() from exc

    def _refresh(self) -> bool:
        """Get a new access token with the refresh token; False if there is none."""
        if self.tokens is None:
            return False
        response = self._send(
            "POST",
            "order",
            "/api/auth/token/refresh/",
            {"refresh": self.tokens.refresh},
            None,
            None,
            False,
        )
        if not response.is_success:
            return False
        self.tokens = Tokens(access=response.json()["access"], refresh=self.tokens.refresh)
        if self.on_refresh is not None:
            self.on_refresh(self.tokens)
        return True

    # Accounts
    def token_obtain(self, *, username: str, password: str) -> Tokens:
        body = self.request(
            "POST",
            "order",
            "/api/auth/token/",
            json={"username": username, "password": password},
            authenticated=False,
        )
        return Tokens(access=body["access"], refresh=body["refresh"])

    def account_register(self, *, username: str, password: str) -> None:
        self.request(
            "POST",
            "order",
            "/api/auth/register/",
            json={"username": username, "password": password},
            authenticated=False,
        )

    # Catalog
    def product_list(
        self, *, search: str = "", stock: str = "", page: int = 1, page_size: int = 12
    ) -> Page[Product]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if search:
            params["search"] = search
        if stock:
            params["stock"] = stock
        body = self.request("GET", "inventory", "/api/products/", params=params)
        return Page(items=body["results"], count=body["count"], number=page, size=page_size)

    def product_get(self, *, sku: str) -> Product:
        product: Product = self.request("GET", "inventory", f"/api/products/{sku}/")
        return product

    # Orders
    def order_create(
        self, *, lines: list[dict[str, Any]], shipping_address: str, idempotency_key: str
    ) -> Order:
        order: Order = self.request(
            "POST",
            "order",
            "/api/orders/",
            json={"lines": lines, "shipping_address": shipping_address},
            headers={"Idempotency-Key": idempotency_key},
        )
        return order

    def order_list(self, *, page: int = 1, page_size: int = 20, status: str = "") -> Page[Order]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status:
            params["status"] = status
        body = self.request("GET", "order", "/api/orders/", params=params)
        return Page(items=body["results"], count=body["count"], number=page, size=page_size)

    def order_get(self, *, order_id: str) -> Order:
        order: Order = self.request("GET", "order", f"/api/orders/{order_id}/")
        return order

    def order_cancel(self, *, order_id: str, reason: str = "") -> Order:
        order: Order = self.request(
            "POST", "order", f"/api/orders/{order_id}/cancel/", json={"reason": reason}
        )
        return order

    # Staff: stock, shipping, saga timelines, and each service's ops API.
    def product_restock(self, *, sku: str, quantity: int) -> Product:
        product: Product = self.request(
            "POST", "inventory", f"/api/products/{sku}/restock/", json={"quantity": quantity}
        )
        return product

    def order_ship(self, *, order_id: str) -> Order:
        order: Order = self.request("POST", "order", f"/api/orders/{order_id}/ship/")
        return order

    def order_timeline(self, *, order_id: str) -> OrderTimeline:
        timeline: OrderTimeline = self.request("GET", "order", f"/api/orders/{order_id}/timeline/")
        return timeline

    def ops_status(self, *, service: str) -> OpsStatus:
        status: OpsStatus = self.request("GET", service, "/api/ops/status/")
        return status

    def dead_letter_list(
        self, *, service: str, page: int = 1, page_size: int = 20
    ) -> Page[DeadLetter]:
        params = {"page": page, "page_size": page_size}
        body = self.request("GET", service, "/api/ops/dead-letters/", params=params)
        return Page(items=body["results"], count=body["count"], number=page, size=page_size)

    def dead_letter_replay(self, *, service: str, letter_id: int) -> DeadLetter:
        letter: DeadLetter = self.request(
            "POST", service, f"/api/ops/dead-letters/{letter_id}/replay/"
        )
        return letter
