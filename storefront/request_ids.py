"""The request id of the request being served: taken from `X-Request-ID` when well formed
(the gateway sets one), made here otherwise, forwarded on every API call and returned."""

import contextvars
import re
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "storefront_request_id", default=""
)


def request_id_of(raw: str | None) -> str:
    """The client's id if it is well formed, else a new one."""
    if raw and _WELL_FORMED.match(raw):
        return raw
    return uuid.uuid4().hex


def request_id_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[..., Any]:
    """Bind the request id for the API client, and return it in the response."""

    def bind(request: HttpRequest) -> str:
        request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
        current_request_id.set(request_id)
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
