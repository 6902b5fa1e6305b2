"""The live order page's stream: `GET /orders/<uuid>/stream`, Server-Sent Events read from
the order's Redis stream (fed by `consume_order_events`).

Served by the ASGI instances themselves: an open stream holds no worker, only a coroutine
blocked in XREAD. A reconnecting EventSource sends the last id it saw and gets what it
missed; one that was refused reconnects with `?last_event_id=`.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from functools import lru_cache

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from storefront.api_client import ApiClient, ApiError, ApiNotFound, ApiUnauthorized
from storefront.identity import api_for, tokens_of
from storefront.shop.order_events import OrderStreamEntry, order_stream_key, read_entries
from storefront.shop.sse import sse_comment, sse_event, sse_retry, stream_position

logger = logging.getLogger(__name__)

# A stream is closed after this long; the browser reconnects at once where it left off, and
# the order's access is checked again.
STREAM_MAX_SECONDS = 600
READ_COUNT = 50


@lru_cache(maxsize=1)
def _redis() -> aioredis.Redis:
    # One pool per process (uvicorn runs one event loop).
    return aioredis.Redis.from_url(settings.STOREFRONT_REDIS_URL, decode_responses=True)


def _order_access(request: HttpRequest, order_id: str) -> tuple[ApiClient | None, int]:
    """The user's API client if they may see the order, else the status to answer with."""
    if tokens_of(request) is None:
        return None, 204  # 204 tells EventSource to stop: the page asks to sign in again
    api = api_for(request)
    try:
        api.order_get(order_id=order_id)
    except (ApiNotFound, ApiUnauthorized):
        return None, 204
    except ApiError:
        return None, 503
    return api, 200


async def order_stream(request: HttpRequest, order_id: object) -> HttpResponseBase:
    # Not thread-sensitive: the storefront has no database, and one thread per process for
    # every stream that opens would queue the openings behind each other's API call.
    access = sync_to_async(_order_access, thread_sensitive=False)
    api, status = await access(request, str(order_id))
    if api is None:
        return HttpResponse(status=status, headers={"Cache-Control": "no-store"})
    last_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    events = order_events(api, str(order_id), stream_position(last_id))
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # for any proxy that buffers by default
    return response


async def order_events(api: ApiClient, order_id: str, position: str) -> AsyncIterator[str]:
    """The SSE text of the order's status changes after `position`, with heartbeats."""
    key = order_stream_key(order_id)
    client = _redis()
    started = time.monotonic()
    yield sse_retry(settings.SSE_RETRY_MS)
    while time.monotonic() - started < STREAM_MAX_SECONDS:
        try:
            reply = await client.xread(
                {key: position}, count=READ_COUNT, block=int(settings.SSE_HEARTBEAT_SECONDS * 1000)
            )
        except aioredis.RedisError as exc:
            logger.warning("order stream %s: redis: %s", order_id, exc)
            yield sse_event(event="unavailable", data="{}")
            await asyncio.sleep(settings.SSE_RETRY_MS / 1000)
            continue
        entries = read_entries(order_id, reply)
        if not entries:
            yield sse_comment("heartbeat")
            continue
        total = await _total_amount(api, order_id, [entry for _, entry in entries])
        for entry_id, entry in entries:
            yield sse_event(event_id=entry_id, data=entry.sse_data(total_amount=total))
            position = entry_id


async def _total_amount(
    api: ApiClient, order_id: str, entries: list[OrderStreamEntry]
) -> str | None:
    """The order's total when it is confirmed (the events carry none); later statuses keep
    the total the page shows already, so they cost no API call."""
    if not any(entry.status == "confirmed" for entry in entries):
        return None
    try:
        order = await sync_to_async(api.order_get, thread_sensitive=False)(order_id=order_id)
    except ApiError:
        return None
    return order["total_amount"]
