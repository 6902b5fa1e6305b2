"""Figure 4: orders over HTTP at fixed arrival rates, from POST to confirmed.

Open loop (see `http_load`): at each rate, orders of two lines are POSTed with a token
for `duration` seconds; then the bench waits (bounded) until none is pending. The time
an order was confirmed is its `updated_at` in `bench_order_service`, written by the
order consumer in the confirming transaction (same machine, same clock); latency runs
from the request's scheduled time to it. An order not confirmed when the drain time
runs out counts as infinitely late. CPU seconds per order are the utime+stime of every
process under the bench stack's supervisord (web, Celery workers and beats,
consumers), before and after, over the confirmed orders; PostgreSQL, Kafka and Redis
are shared servers and reported apart.
"""

import asyncio
import math
import random
import re
import time
from collections.abc import Coroutine
from typing import Any

import psycopg2

from manage_scripts.benchmarks.cpu import CpuSnapshot, wait_for_quiet
from manage_scripts.benchmarks.http_load import http_call, open_loop
from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.benchmarks.profiling import Profiler, summarize
from manage_scripts.benchmarks.stack import BenchStack
from manage_scripts.benchmarks.stats import latency_summary, percentile, spread

PRODUCTS = 200
STOCK = 5_000_000
P99_LIMIT_MS = 250.0


def products_create(stack: BenchStack) -> list[str]:
    """Products E2E-000 … with stock that never runs out, created over the API."""
    skus = [f"E2E-{i:03d}" for i in range(PRODUCTS)]

    async def create() -> list[int]:
        port, token = stack.bench.ports["inventory"], stack.tokens["inventory"]
        statuses = []
        for sku in skus:
            status, _ = await http_call(
                port,
                "POST",
                "/api/products/",
                payload={
                    "sku": sku,
                    "name": f"bench {sku}",
                    "unit_price": "19.90",
                    "available_quantity": STOCK,
                    "low_stock_threshold": 10,
                },
                token=token,
            )
            statuses.append(status)
        return statuses

    statuses = asyncio.run(create())
    if any(s not in (201, 400) for s in statuses):
        raise RuntimeError(f"could not create the bench products: {sorted(set(statuses))}")
    return skus


def _order_payload(index: int, skus: list[str], rng: random.Random) -> dict[str, Any]:
    # The customer is the bench's account (the token's), not a field of the body.
    return {"lines": [{"sku": sku, "quantity": 1} for sku in rng.sample(skus, 2)]}


def orders_settle(
    bench: BenchEnv, ids: list[str], *, timeout: float, poll: float = 0.5
) -> dict[str, tuple[str, float]]:
    """Wait (bounded) until none of `ids` is pending; their status and updated_at epoch."""
    conn = psycopg2.connect(bench.dsn("order"))
    conn.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with conn.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT count(*) FROM orders_order"
                    " WHERE id = ANY(%s::uuid[]) AND status IN ('pending', 'cancelling')",
                    [ids],
                )
                if cursor.fetchone()[0] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(poll)
            cursor.execute(
                "SELECT id::text, status, extract(epoch FROM updated_at)"
                " FROM orders_order WHERE id = ANY(%s::uuid[])",
                [ids],
            )
            return {row[0]: (row[1], float(row[2])) for row in cursor.fetchall()}
    finally:
        conn.close()


def backlog_drain(bench: BenchEnv, *, timeout: float) -> dict[str, Any]:
    """Wait (bounded) until no order is pending and none is being created: a clean start."""
    conn = psycopg2.connect(bench.dsn("order"))
    conn.autocommit = True
    started = time.monotonic()
    last_total, pending, total = -1, 0, 0
    try:
        with conn.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE status IN ('pending', 'cancelling')),"
                    " count(*) FROM orders_order"
                )
                pending, total = cursor.fetchone()
                if (pending == 0 and total == last_total) or time.monotonic() - started > timeout:
                    break
                last_total = total
                time.sleep(0.5)
    finally:
        conn.close()
    return {
        "pending_at_start": pending,
        "orders_total": total,
        "waited_s": round(time.monotonic() - started, 1),
    }


def pg_counters(bench: BenchEnv) -> dict[str, int]:
    """Sessions opened and transactions committed so far in the two bench databases."""
    conn = psycopg2.connect(bench.dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(sessions), 0), coalesce(sum(xact_commit), 0)"
                " FROM pg_stat_database WHERE datname = ANY(%s)",
                [list(bench.databases.values())],
            )
            sessions, commits = cursor.fetchone()
    finally:
        conn.close()
    return {"sessions": int(sessions), "commits": int(commits)}


def confirmed_between(bench: BenchEnv, start: float, end: float) -> int:
    """Orders confirmed in a time window, whoever placed them (the CPU covers them all)."""
    conn = psycopg2.connect(bench.dsn("order"))
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM orders_order WHERE status = 'confirmed'"
                " AND updated_at BETWEEN to_timestamp(%s) AND to_timestamp(%s)",
                [start, end],
            )
            return int(cursor.fetchone()[0])
    finally:
        conn.close()


HOPS = (
    ("request_to_order_row", "POST scheduled -> order row written (web)"),
    ("order_relay", "OrderCreated outbox row -> marked published (NOTIFY wakes the relay)"),
    ("to_inventory_consumer", "published -> inventory consumer's transaction starts (Kafka)"),
    ("inventory_apply", "inventory transaction start -> StockReserved outbox row"),
    ("inventory_relay", "StockReserved outbox row -> marked published (NOTIFY wakes the relay)"),
    ("to_order_consumer", "published -> order consumer's transaction starts (Kafka)"),
    ("order_apply", "order consumer's transaction start -> order confirmed"),
)


def saga_hops(bench: BenchEnv, outcomes: list[Any]) -> dict[str, dict[str, float | None]]:
    """Where each confirmed order's time went, from the timestamps the saga writes anyway.

    Outbox `published_at` is written after Kafka acknowledged, so the next hop can start
    before it (a negative hop); inbox `processed_at` is the applying transaction's start.
    """
    scheduled = {
        o.body["id"]: o.scheduled_wall
        for o in outcomes
        if o.status == 201 and isinstance(o.body, dict)
    }
    if not scheduled:
        return {}
    ids = list(scheduled)
    epoch = "extract(epoch FROM {})"
    with psycopg2.connect(bench.dsn("order")) as conn, conn.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT o.id::text, {epoch.format("o.updated_at")}, {epoch.format("oc.created_at")},
                   {epoch.format("oc.published_at")}, {epoch.format("pe.processed_at")}
              FROM orders_order o
              JOIN shared_events_outboxmessage oc
                ON oc.correlation_id = o.id::text
               AND oc.event_type = 'OrderCreatedIntegrationEvent'
              JOIN shared_events_processedevent pe
                ON pe.correlation_id = o.id::text
               AND pe.event_type = 'StockReservedIntegrationEvent'
             WHERE o.id = ANY(%s::uuid[]) AND o.status = 'confirmed'
            """,  # noqa: S608 - a fixed column expression; no input reaches this SQL
            [ids],
        )
        orders = {row[0]: [float(v) if v is not None else None for v in row[1:]] for row in cursor}
    conn.close()
    with psycopg2.connect(bench.dsn("inventory")) as conn, conn.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT pe.correlation_id, {epoch.format("pe.processed_at")},
                   {epoch.format("sr.created_at")}, {epoch.format("sr.published_at")}
              FROM shared_events_processedevent pe
              JOIN shared_events_outboxmessage sr
                ON sr.correlation_id = pe.correlation_id
               AND sr.event_type = 'StockReservedIntegrationEvent'
             WHERE pe.correlation_id = ANY(%s)
               AND pe.event_type = 'OrderCreatedIntegrationEvent'
            """,  # noqa: S608 - a fixed column expression; no input reaches this SQL
            [list(orders)],
        )
        inventory = {
            row[0]: [float(v) if v is not None else None for v in row[1:]] for row in cursor
        }
    conn.close()
    hops: dict[str, list[float]] = {name: [] for name, _ in HOPS}
    for order_id, (confirmed, created, published, order_applied) in orders.items():
        if order_id not in inventory or None in (created, published, order_applied):
            continue
        inv_started, reserved_row, reserved_published = inventory[order_id]
        if None in (inv_started, reserved_row, reserved_published):
            continue
        points = [
            scheduled[order_id],
            created,
            published,
            inv_started,
            reserved_row,
            reserved_published,
            order_applied,
            confirmed,
        ]
        for (name, _), start, end in zip(HOPS, points, points[1:], strict=False):
            hops[name].append(end - start)
    return {
        name: {
            "p50_ms": round(1000 * percentile(values, 50), 1) if values else None,
            "p95_ms": round(1000 * percentile(values, 95), 1) if values else None,
            "orders": len(values),
        }
        for name, values in hops.items()
    }


def _log_offset(stack: BenchStack, program: str) -> int:
    path = stack.program_log(program)
    return path.stat().st_size if path.exists() else 0


def _relay_runs(stack: BenchStack, program: str, offset: int, since: float) -> dict[str, Any]:
    """What a service's relay did since `since`: each run stamps its batch with one
    `published_at`; warnings and errors come from its log after `offset`."""
    import psycopg2

    service = program.split("-")[0]
    with psycopg2.connect(stack.bench.dsn(service)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT published_at), count(*) FROM shared_events_outboxmessage"
            " WHERE published_at >= to_timestamp(%s)",
            [since],
        )
        runs, events = cursor.fetchone()
    conn.close()
    path = stack.program_log(program)
    text = ""
    if path.exists():
        with path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    return {
        "relay_runs_that_published": runs,
        "events_published": events,
        "events_per_run_avg": round(events / runs, 2) if runs else None,
        "warnings": len(re.findall(r" WARNING ", text)),
        "errors": len(re.findall(r" ERROR ", text)),
    }


def step(
    stack: BenchStack,
    skus: list[str],
    *,
    rate: float,
    duration: float,
    drain_s: float,
    max_in_flight: int,
    profile_to: Any = None,
) -> dict[str, Any]:
    """One open-loop step at `rate` orders/s; its latencies, throughput and CPU."""
    bench = stack.bench
    rng = random.Random(int(rate * 1000 + duration))
    payloads = [_order_payload(i, skus, rng) for i in range(round(rate * duration))]
    # Spread over every web instance of the service, as the gateway does, without its hop:
    # the gateway's own cost is the gateway figure.
    ports, token = stack.process.config.instance_ports("order"), stack.tokens["order"]

    def call(i: int) -> Coroutine[Any, Any, tuple[int, Any]]:
        port = ports[i % len(ports)]
        return http_call(port, "POST", "/api/orders/", payload=payloads[i], token=token)

    backlog = backlog_drain(bench, timeout=drain_s)
    offsets = {p: _log_offset(stack, p) for p in ("order-relay", "inventory-relay")}
    root = stack.supervisord_pid()
    profiler = None
    if profile_to is not None:
        profiler = Profiler(profile_to, pid=root, subprocesses=True, rate=50, duration=duration)
        profiler.start()
    counters_before = pg_counters(bench)
    window_start = time.time()
    before = CpuSnapshot.take(root)
    outcomes, info = asyncio.run(
        open_loop(
            rate=rate,
            duration=duration,
            call=call,
            max_in_flight=max_in_flight,
            hard_limit=duration + 20,
        )
    )
    accepted = [o for o in outcomes if o.status == 201 and isinstance(o.body, dict)]
    ids = [o.body["id"] for o in accepted]
    settled = orders_settle(bench, ids, timeout=drain_s) if ids else {}
    after = CpuSnapshot.take(root)
    in_window = confirmed_between(bench, window_start, time.time())
    created = backlog_drain(bench, timeout=0)["orders_total"] - backlog["orders_total"]
    time.sleep(1.2)  # backends report their statistics at most once a second
    counters_after = pg_counters(bench)
    if profiler is not None:
        profiler.stop()

    latencies, confirmed_at = [], []
    statuses: dict[str, int] = {}
    for o in outcomes:
        if o.status != 201 or not isinstance(o.body, dict):
            latencies.append(math.inf)
            continue
        status, updated = settled.get(o.body["id"], ("missing", 0.0))
        statuses[status] = statuses.get(status, 0) + 1
        if status == "confirmed":
            latencies.append(max(updated - o.scheduled_wall, 0.0))
            confirmed_at.append(updated)
        else:
            latencies.append(math.inf)
    post_latencies = [o.done_wall - o.scheduled_wall for o in outcomes if o.status == 201]
    confirmed = len(confirmed_at)
    first = min((o.scheduled_wall for o in outcomes), default=0.0)
    span = (max(confirmed_at) - first) if confirmed_at else 0.0
    cpu = after.since(before)
    # CPU per order: over every order confirmed while the CPU was counted (the step's own,
    # plus any created by requests the client timed out on).
    per_order = max(in_window, 1)
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.status != 201:
            key = o.error.split(":")[0] if o.error else f"HTTP {o.status}"
            errors[key] = errors.get(key, 0) + 1
    result = {
        "rate": rate,
        "duration_s": duration,
        **{k: v for k, v in info.items() if k != "start_wall"},
        "backlog_before": backlog,
        "sent": len(outcomes),
        "accepted_201": len(accepted),
        # Requests the client gave up on that the server still turned into orders.
        "orders_created_without_201": created - len(accepted),
        "http_errors": errors,
        "statuses": statuses,
        "confirmed": confirmed,
        "confirm_latency": latency_summary(latencies),
        "post_latency": latency_summary(post_latencies),
        "confirmed_per_s": round(confirmed / span, 1) if span > 0 else None,
        "cpu": cpu,
        "orders_confirmed_in_cpu_window": in_window,
        "stack_cpu_ms_per_order": round(1000 * cpu["stack_cpu_s"] / per_order, 2)
        if in_window
        else None,
        "infra_cpu_ms_per_order": round(1000 * cpu["infra_cpu_s"] / per_order, 2)
        if in_window
        else None,
        # Approximate (statistics lag by up to a second); the bench's own queries count too.
        "postgres_sessions_per_order": round(
            (counters_after["sessions"] - counters_before["sessions"]) / per_order, 2
        )
        if in_window
        else None,
        "postgres_commits_per_order": round(
            (counters_after["commits"] - counters_before["commits"]) / per_order, 2
        )
        if in_window
        else None,
        "stack_cpu_ms_per_order_by_program": {
            program: round(1000 * seconds / per_order, 2)
            for program, seconds in cpu["stack_cpu_s_by_program"].items()
        }
        if in_window
        else {},
        "relay": {p: _relay_runs(stack, p, off, window_start) for p, off in offsets.items()},
        "hops": saga_hops(bench, outcomes),
    }
    lat = result["confirm_latency"]
    result["sustained"] = bool(
        confirmed == result["scheduled"]
        and lat["p99_ms"] is not None
        and lat["p99_ms"] < P99_LIMIT_MS
    )
    print(
        f"[bench] e2e {rate:g}/s x {duration:g}s: confirmed {confirmed}/{result['scheduled']},"
        f" p50 {lat['p50_ms']} p95 {lat['p95_ms']} p99 {lat['p99_ms']} max {lat['max_ms']} ms,"
        f" {result['confirmed_per_s']} confirmed/s, stack CPU"
        f" {result['stack_cpu_ms_per_order']} ms/order, machine {cpu['machine_busy_pct']}%,"
        f" other load {cpu['other_cpu_s']} CPU s, errors {errors or 0}",
        flush=True,
    )
    if profiler is not None:
        result["profile_error"] = profiler.error
    return result


def run(stack: BenchStack, plan: dict[str, Any], *, profile: bool) -> dict[str, Any]:
    bench = stack.bench
    skus = products_create(stack)
    # Warm every process up (connections, imports, the producer) before measuring.
    warm = step(stack, skus, rate=10, duration=3, drain_s=30, max_in_flight=50)
    rates = plan["e2e_rates"]
    repeats: list[list[dict[str, Any]]] = []
    quiet_waits = []
    for _ in range(plan["e2e_repeats"]):
        # Start each repeat clean: the previous overload's backlog done, the machine quiet.
        quiet_waits.append(
            {
                "backlog": backlog_drain(bench, timeout=plan["e2e_repeat_backlog_wait_s"]),
                **wait_for_quiet(max_wait=plan["quiet_wait_s"]),
            }
        )
        repeats.append(
            [
                step(
                    stack,
                    skus,
                    rate=rate,
                    duration=plan["e2e_duration_s"],
                    drain_s=plan["e2e_drain_s"],
                    max_in_flight=plan["e2e_max_in_flight"],
                )
                for rate in rates
            ]
        )
    per_rate = {}
    for index, rate in enumerate(rates):
        steps = [rep[index] for rep in repeats]

        def pick(path: tuple[str, ...], steps: list[dict[str, Any]] = steps) -> list[Any]:
            values = []
            for s in steps:
                v: Any = s
                for key in path:
                    v = v.get(key) if isinstance(v, dict) else None
                values.append(v)
            return values

        per_rate[f"{rate:g}"] = {
            "offered_per_s": rate,
            "p50_ms": spread(pick(("confirm_latency", "p50_ms")), "ms"),
            "p95_ms": spread(pick(("confirm_latency", "p95_ms")), "ms"),
            "p99_ms": spread(pick(("confirm_latency", "p99_ms")), "ms"),
            "max_ms": spread(pick(("confirm_latency", "max_ms")), "ms"),
            "post_p50_ms": spread(pick(("post_latency", "p50_ms")), "ms"),
            "post_p99_ms": spread(pick(("post_latency", "p99_ms")), "ms"),
            "confirmed_per_s": spread(pick(("confirmed_per_s",)), "orders/s"),
            "confirmed_fraction": spread(
                [s["confirmed"] / s["scheduled"] for s in steps], "fraction", 4
            ),
            "stack_cpu_ms_per_order": spread(pick(("stack_cpu_ms_per_order",)), "ms", 2),
            "infra_cpu_ms_per_order": spread(pick(("infra_cpu_ms_per_order",)), "ms", 2),
            "machine_busy_pct": spread(pick(("cpu", "machine_busy_pct")), "%"),
            "other_load_cores": spread(pick(("cpu", "other_load_cores")), "cores", 2),
            "sustained_runs": sum(1 for s in steps if s["sustained"]),
            "postgres_sessions_per_order": spread(pick(("postgres_sessions_per_order",)), "", 2),
            "postgres_commits_per_order": spread(pick(("postgres_commits_per_order",)), "", 2),
            "hops_p50_ms_median": {
                name: spread(
                    [(s.get("hops") or {}).get(name, {}).get("p50_ms") for s in steps], "ms"
                )["median"]
                for name, _ in HOPS
            },
            "stack_cpu_ms_per_order_by_program_median": {
                program: spread(
                    [s["stack_cpu_ms_per_order_by_program"].get(program) for s in steps], "ms", 2
                )["median"]
                for program in steps[0]["stack_cpu_ms_per_order_by_program"]
            },
        }
    highest = [max((s["rate"] for s in rep if s["sustained"]), default=0.0) for rep in repeats]
    profiles = {}
    if profile:
        path = bench.tmp_dir / "profile-e2e.txt"
        rate = plan["e2e_profile_rate"]
        profiled = step(
            stack,
            skus,
            rate=rate,
            duration=plan["e2e_profile_duration_s"],
            drain_s=plan["e2e_drain_s"],
            max_in_flight=plan["e2e_max_in_flight"],
            profile_to=path,
        )
        profiles["stack"] = {
            "rate": rate,
            "under_profiler": {
                "confirm_latency": profiled["confirm_latency"],
                "confirmed_per_s": profiled["confirmed_per_s"],
            },
            **summarize(path),
            "mode": "py-spy on-CPU at 50 Hz over every process under the stack's supervisord",
            "error": profiled.get("profile_error", ""),
        }
    return {
        "description": (
            "orders (2 lines, quantity 1, 200 products) POSTed with a token at fixed arrival "
            "rates (open loop); latency from scheduled send to the order's confirmed "
            "updated_at; nearest-rank percentiles"
        ),
        "rates": rates,
        "hops": dict(HOPS),
        "duration_s": plan["e2e_duration_s"],
        "repeats": plan["e2e_repeats"],
        "per_rate": per_rate,
        "highest_rate_with_p99_under_250ms": spread(highest, "orders/s"),
        "warmup": {k: warm[k] for k in ("rate", "sent", "confirmed", "confirm_latency")},
        "quiet_waits_before_repeats": quiet_waits,
        "steps": repeats,
        "profiles": profiles,
    }
