"""Push latency: from the Kafka message that confirms an order to the storefront's
Server-Sent Event that tells the browser, against a running stack (`manage_scripts/up`).

    THROTTLE_RATE_ORDER_CREATE=100000/min manage_scripts/up   # one customer, 50 orders/s
    python -m manage_scripts.benchmarks.push_latency --rate 50 --duration 10

Orders are placed over the order API at a fixed rate (open loop), through the gateway as a
browser and the mobile app reach the stack, so over every web instance; for each, a client
signed in to the storefront holds the order's stream, as the order page's EventSource
does. Once the order is confirmed it is cancelled, and the client notes when the
`cancelling` event arrives: that event is published while the stream is surely open, so
it is pushed, never caught up. The latency runs from the event's Kafka timestamp (stored
with it by `consume_order_events`) to its arrival; the same machine's clock on both ends.
"""

import argparse
import asyncio
import json
import re
import sys
import time
import uuid
from typing import Any

import httpx

from manage_scripts.benchmarks.stats import latency_summary

PRICE = "1.00"
# Each order's stream stands for one browser's connection, all open at once: no pool cap.
UNPOOLED = httpx.Limits(max_connections=None, max_keepalive_connections=200)


async def storefront_session(storefront: str, username: str, password: str) -> httpx.AsyncClient:
    """A client signed in to the storefront (its session cookie, as a browser holds it)."""
    client = httpx.AsyncClient(base_url=storefront, timeout=30, limits=UNPOOLED)
    page = await client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    signed_in = await client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token[1], "username": username, "password": password},
    )
    assert signed_in.status_code == 302, f"storefront login: {signed_in.status_code}"
    return client


async def cancel_push(
    client: httpx.AsyncClient, api: httpx.AsyncClient, headers: dict[str, str], order_id: str
) -> float | None:
    """Seconds from the `cancelling` event's Kafka timestamp to its arrival on the order's
    stream; None when the order was not confirmed. A refused stream is opened again where
    it stopped, after a second, as the order page does."""
    last_id = ""
    while True:
        params = {"last_event_id": last_id} if last_id else {}
        async with client.stream("GET", f"/orders/{order_id}/stream", params=params) as response:
            opened = time.time()
            if response.status_code != 200:
                await asyncio.sleep(1.0)
                continue
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    last_id = line[len("id: ") :]
                if not line.startswith("data: "):
                    continue
                arrived = time.time()
                event = json.loads(line[len("data: ") :])
                if "status" not in event:  # "unavailable": the storefront lost Redis a while
                    continue
                if event["status"] == "confirmed":
                    cancel = await api.post(
                        f"/api/orders/{order_id}/cancel/", json={}, headers=headers
                    )
                    cancel.raise_for_status()
                elif event["status"] == "cancelling" and event.get("published_at"):
                    published = int(event["published_at"]) / 1000
                    return arrived - published if published >= opened else None
                elif event["status"] != "pending":
                    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    api = httpx.AsyncClient(base_url=args.order_url, timeout=30, limits=UNPOOLED)
    staff = await api.post(
        "/api/auth/token/", json={"username": args.staff, "password": args.staff_password}
    )
    staff.raise_for_status()
    sku = f"PUSH-{uuid.uuid4().hex[:8].upper()}"
    async with httpx.AsyncClient(timeout=30) as inventory:
        created = await inventory.post(
            f"{args.inventory_url}/api/products/",
            json={
                "sku": sku,
                "name": "push bench",
                "unit_price": PRICE,
                "available_quantity": 10_000_000,
            },
            headers={"Authorization": f"Bearer {staff.json()['access']}"},
        )
    created.raise_for_status()
    username, password = f"push-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    (
        await api.post("/api/auth/register/", json={"username": username, "password": password})
    ).raise_for_status()
    token = (
        await api.post("/api/auth/token/", json={"username": username, "password": password})
    ).json()
    storefront = await storefront_session(args.storefront_url, username, password)
    headers = {"Authorization": f"Bearer {token['access']}"}

    async def one(i: int) -> float | None:
        placed = await api.post(
            "/api/orders/", json={"lines": [{"sku": sku, "quantity": 1}]}, headers=headers
        )
        placed.raise_for_status()
        pushed = cancel_push(storefront, api, headers, placed.json()["id"])
        return await asyncio.wait_for(pushed, args.timeout)

    count = round(args.rate * args.duration)
    start = time.monotonic()
    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    pushed = [r for r in results if isinstance(r, float)]
    failed = [r for r in results if isinstance(r, BaseException)]
    await storefront.aclose()
    await api.aclose()
    return {
        "rate_per_s": args.rate,
        "orders": count,
        "pushed": len(pushed),
        "not_measured": count - len(pushed) - len(failed),
        "failed": len(failed),
        "first_failure": repr(failed[0]) if failed else None,
        "push_latency": latency_summary(pushed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    parser.add_argument("--timeout", type=float, default=60.0, help="per order, seconds")
    parser.add_argument("--order-url", default="http://127.0.0.1:8000")
    parser.add_argument("--inventory-url", default="http://127.0.0.1:8000")
    parser.add_argument("--storefront-url", default="http://127.0.0.1:8000")
    parser.add_argument("--staff", default="demo", help="a staff account (creates the product)")
    parser.add_argument("--staff-password", default="demo")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2))
    return 0 if report["failed"] == 0 and report["pushed"] else 1


if __name__ == "__main__":
    sys.exit(main())
