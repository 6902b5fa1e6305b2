"""Figure 5: a flash sale, 500 buyers at once for 50 units of one SKU.

A fresh product with 50 units is created over the API; 500 single-unit orders for it
are POSTed all at once (500 connections, loopback). Settling time runs from the first
request to the last order leaving `pending` (its `updated_at`); the result must be
exactly 50 confirmed, 450 rejected, and the product at 0 available / 50 reserved.
"""

import asyncio
import time
import uuid
from typing import Any

from manage_scripts.benchmarks.end_to_end import orders_settle
from manage_scripts.benchmarks.http_load import http_call
from manage_scripts.benchmarks.stack import BenchStack
from manage_scripts.benchmarks.stats import spread


async def _buy_all(port: int, token: str, sku: str, buyers: int) -> list[tuple[int, Any, float]]:
    async def buy(i: int) -> tuple[int, Any, float]:
        try:
            status, body = await http_call(
                port,
                "POST",
                "/api/orders/",
                payload={"lines": [{"sku": sku, "quantity": 1}]},
                token=token,
                timeout=60,
            )
        except (TimeoutError, OSError, ValueError, IndexError) as exc:
            status, body = 0, f"{type(exc).__name__}: {exc}"
        return status, body, time.time()

    return await asyncio.gather(*(buy(i) for i in range(buyers)))


def sale(stack: BenchStack, plan: dict[str, Any], label: str) -> dict[str, Any]:
    bench = stack.bench
    units, buyers = plan["flash_units"], plan["flash_buyers"]
    sku = f"FLASH-{label}-{uuid.uuid4().hex[:6].upper()}"
    status, body = asyncio.run(
        http_call(
            bench.ports["inventory"],
            "POST",
            "/api/products/",
            payload={
                "sku": sku,
                "name": "flash sale",
                "unit_price": "99.00",
                "available_quantity": units,
                "low_stock_threshold": 5,
            },
            token=stack.tokens["inventory"],
        )
    )
    if status != 201:
        raise RuntimeError(f"could not create {sku}: {status} {body}")
    started = time.time()
    responses = asyncio.run(_buy_all(bench.ports["order"], stack.tokens["order"], sku, buyers))
    accepted = [b["id"] for s, b, _ in responses if s == 201 and isinstance(b, dict)]
    posted_s = max(t for _, _, t in responses) - started
    settled = orders_settle(bench, accepted, timeout=plan["flash_time_limit_s"], poll=0.1)
    statuses: dict[str, int] = {}
    for status_name, _ in settled.values():
        statuses[status_name] = statuses.get(status_name, 0) + 1
    final = [u for s, u in settled.values() if s not in ("pending", "cancelling")]
    settle_s = (max(final) - started) if len(final) == len(accepted) and final else None
    _, product = asyncio.run(http_call(bench.ports["inventory"], "GET", f"/api/products/{sku}/"))
    confirmed = statuses.get("confirmed", 0)
    result = {
        "sku": sku,
        "buyers": buyers,
        "units": units,
        "accepted_201": len(accepted),
        "http_failures": buyers - len(accepted),
        "post_phase_s": round(posted_s, 3),
        "settle_s": round(settle_s, 3) if settle_s is not None else None,
        "statuses": statuses,
        "confirmed": confirmed,
        "product_after": {
            k: product.get(k) for k in ("available_quantity", "reserved_quantity", "sold_quantity")
        }
        if isinstance(product, dict)
        else product,
    }
    result["exactly_units_confirmed"] = bool(
        confirmed == units
        and statuses.get("rejected", 0) == buyers - units
        and isinstance(product, dict)
        and product.get("available_quantity") == 0
        and product.get("reserved_quantity") == units
    )
    print(
        f"[bench] flash sale {label}: settled in {result['settle_s']}s"
        f" (POSTs done after {result['post_phase_s']}s), {confirmed} confirmed,"
        f" statuses {statuses}, product {result['product_after']}",
        flush=True,
    )
    return result


def run(stack: BenchStack, plan: dict[str, Any]) -> dict[str, Any]:
    runs = [sale(stack, plan, str(i)) for i in range(plan["flash_repeats"])]
    return {
        "description": (
            f"{plan['flash_buyers']} single-unit orders POSTed at once for one SKU with "
            f"{plan['flash_units']} units; settle = first POST to last order final"
        ),
        "settle_s": spread([r["settle_s"] for r in runs], "s", 3),
        "post_phase_s": spread([r["post_phase_s"] for r in runs], "s", 3),
        "confirmed": spread([r["confirmed"] for r in runs], "orders", 0),
        "all_runs_exactly_units_confirmed": all(r["exactly_units_confirmed"] for r in runs),
        "runs": runs,
    }
