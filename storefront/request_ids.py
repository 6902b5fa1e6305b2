"""Who the request being served is for, forwarded on every API call it makes.

Its id: `X-Request-ID` when well formed (the gateway sets one), made here otherwise, and
returned. Its client's address: the one the gateway, the one proxy the storefront trusts,
appended to `X-Forwarded-For` (else the peer's), so that the services' throttles count each
shopper, not the storefront.
"""

import contextvars
import re
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from shared_events.headers import REQUEST_ID_PATTERN

REQUEST_ID_HEADER = "X-Request-ID"
FORWARDED_FOR_HEADER = "X-Forwarded-For"
_WELL_FORMED = re.compile(f"^{REQUEST_ID_PATTERN}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "storefront_request_id", default=""
)
current_client_address: contextvars.ContextVar[str] = contextvars.ContextVar(
    "storefront_client_address", default=""
)


def request_id_of(raw: str | None) -> str:
    """The client's id if it is well formed, else a new one."""
    if raw and _WELL_FORMED.match(raw):
        return raw
    return uuid.uuid4().hex


def client_address_of(request: HttpRequest) -> str:
    """The address the gateway saw: the last `X-Forwarded-For` entry, else the peer's."""
    forwarded = request.headers.get(FORWARDED_FOR_HEADER, "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last or request.META.get("REMOTE_ADDR", "")


def request_id_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[..., Any]:
    """Bind the request id and client address for the API client; return the id."""

    def bind(request: HttpRequest) -> str:
        request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
        current_request_id.set(request_id)
        current_client_address.set(client_address_of(request))
        return request_id

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            request_id = bind(request)
            response: HttpResponseBase = await get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            return response

        return markcoroutinefunction(async_middleware)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        request_id = bind(request)
        response: HttpResponseBase = get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    return middleware


request_id_middleware.sync_capable = True  # type: ignore[attr-defined]
request_id_middleware.async_capable = True  # type: ignore[attr-defined]
