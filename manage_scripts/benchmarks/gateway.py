"""The gateway's overhead: the same requests straight to a service's first instance and
through the gateway, interleaved in one run (pairs in alternating order) so that the
machine's other load weighs on both alike; p50/p99 of each and their difference.

A GET of one product (inventory) and a POST of an order (order service, the saga's entry
point) each `gateway_requests` times, paced at `gateway_rate` pairs per second.
"""

import asyncio
import time
from typing import Any

from manage_scripts.benchmarks.http_load import http_call
from manage_scripts.benchmarks.stack import BenchStack
from manage_scripts.benchmarks.stats import latency_summary

SKU = "GW-BENCH"


def run(stack: BenchStack, plan: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_run(stack, plan))


async def _run(stack: BenchStack, plan: dict[str, Any]) -> dict[str, Any]:
    ports = stack.bench.ports
    token = stack.tokens["order"]
    status, body = await http_call(
        ports["inventory"],
        "POST",
        "/api/products/",
        payload={
            "sku": SKU,
            "name": "gateway bench",
            "unit_price": "1.00",
            "available_quantity": 10_000_000,
            "low_stock_threshold": 1,
        },
        token=token,
    )
    if status not in (201, 409):
        raise RuntimeError(f"creating {SKU} answered {status}: {body}")
    requests = {
        "get_product": ("inventory", "GET", f"/api/products/{SKU}/", None),
        "post_order": (
            "order",
            "POST",
            "/api/orders/",
            {"lines": [{"sku": SKU, "quantity": 1}]},
        ),
    }
    latencies: dict[str, dict[str, list[float]]] = {
        name: {"direct": [], "gateway": []} for name in requests
    }
    failures: dict[str, int] = {}
    count, interval = plan["gateway_requests"], 1 / plan["gateway_rate"]
    for i in range(count):
        for name, (service, method, path, payload) in requests.items():
            routes = [("direct", ports[service]), ("gateway", ports["gateway"])]
            for route, port in routes if i % 2 else routes[::-1]:
                started = time.perf_counter()
                status, _ = await http_call(port, method, path, payload=payload, token=token)
                elapsed = time.perf_counter() - started
                if status in (200, 201):
                    latencies[name][route].append(elapsed)
                else:
                    key = f"{name} {route} {status}"
                    failures[key] = failures.get(key, 0) + 1
        await asyncio.sleep(interval)
    per_request = {}
    for name, routes_seen in latencies.items():
        direct, gateway = (latency_summary(routes_seen[r]) for r in ("direct", "gateway"))
        per_request[name] = {
            "direct": direct,
            "gateway": gateway,
            "overhead_p50_ms": _difference(gateway["p50_ms"], direct["p50_ms"]),
            "overhead_p99_ms": _difference(gateway["p99_ms"], direct["p99_ms"]),
        }
    return {
        "description": (
            "the same GET /api/products/<sku>/ and POST /api/orders/ sent straight to the "
            "service's first instance and through the gateway (two instances behind it), "
            "interleaved, one at a time; a fresh connection each; nearest-rank percentiles"
        ),
        "requests_per_route": count,
        "pairs_per_s": plan["gateway_rate"],
        "per_request": per_request,
        "failures": failures,
    }


def _difference(a: float | int | None, b: float | int | None) -> float | None:
    return None if a is None or b is None else round(a - b, 2)
