"""A small open-loop HTTP load generator on asyncio, for loopback only.

Requests are scheduled at fixed intervals whatever the server does (open loop): a slow
server makes requests pile up, it does not slow the arrivals down. Latency is measured
from each request's *scheduled* time, so a late sender does not hide queueing. Every
loop is bounded in count and in time; requests over the in-flight limit are counted
as skipped, never queued.
"""

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass
class Outcome:
    index: int
    scheduled_wall: float
    sent_wall: float = 0.0
    done_wall: float = 0.0
    status: int = 0
    body: Any = None
    error: str = ""


async def http_call(
    port: int,
    method: str,
    path: str,
    *,
    payload: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One HTTP/1.1 request over a fresh connection to 127.0.0.1 (gunicorn sync closes it)."""
    if form is not None:
        from urllib.parse import urlencode

        body, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
    elif payload is not None:
        body, content_type = json.dumps(payload).encode(), "application/json"
    else:
        body, content_type = b"", ""
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: close",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
    ]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    if token:
        head.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    raw = await asyncio.wait_for(exchange(), timeout)
    header, _, content = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1]) if header else 0
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = content[:200].decode(errors="replace")
    return status, parsed


async def open_loop(
    *,
    rate: float,
    duration: float,
    call: Callable[[int], Any],
    max_in_flight: int,
    hard_limit: float,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Start `call(i)` at `rate` per second for `duration` seconds; wait at most `hard_limit`."""
    loop = asyncio.get_running_loop()
    count = round(rate * duration)
    start_mono = loop.time() + 0.2
    start_wall = time.time() + (start_mono - loop.time())
    outcomes: list[Outcome] = []
    tasks: set[asyncio.Task[None]] = set()
    skipped = 0
    lags: list[float] = []

    async def one(outcome: Outcome) -> None:
        outcome.sent_wall = time.time()
        try:
            outcome.status, outcome.body = await call(outcome.index)
        except (TimeoutError, OSError, ValueError, IndexError) as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.done_wall = time.time()

    for i in range(count):
        due = start_mono + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(loop.time() - due)
        if len(tasks) >= max_in_flight:
            skipped += 1
            continue
        outcome = Outcome(index=i, scheduled_wall=start_wall + i / rate)
        outcomes.append(outcome)
        task = asyncio.create_task(one(outcome))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    remaining = hard_limit - (loop.time() - start_mono)
    if tasks:
        _done, pending = await asyncio.wait(set(tasks), timeout=max(remaining, 1.0))
        for task in pending:
            task.cancel()
    lags.sort()
    info = {
        "scheduled": count,
        "skipped_over_in_flight_limit": skipped,
        "sender_lag_p99_ms": round(1000 * lags[int(0.99 * (len(lags) - 1))], 2) if lags else None,
        "sender_lag_max_ms": round(1000 * lags[-1], 2) if lags else None,
        "start_wall": start_wall,
    }
    return outcomes, info
