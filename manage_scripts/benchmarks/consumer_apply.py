"""Figure 3: how fast `consume_events` applies reservation events, with 1 and 2 processes.

Each run gets a fresh namespace. The Inventory Service's own `manage.py consume_events`
processes (dev settings, `bench_inventory_service`) are started; once the group is
stable with every process holding partitions, the order-events topic is filled with N
real OrderCreated envelopes (two lines each, over 1,000 products with ample stock) and
the processes apply them: decode, then per polled batch one transaction with the dedupe
insert, the products locked and moved, reservation rows and StockReserved outbox rows,
offsets committed after it.
The rate is taken from the inbox's `processed_at` between the 5th and the 95th
percentile event; the run is then checked: every event applied once, every order
reserved, stock conserved, nothing dead-lettered.
"""

import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import psycopg2

from manage_scripts.benchmarks import raw_kafka
from manage_scripts.benchmarks.cpu import CpuSnapshot, pid_cpu_seconds
from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.benchmarks.profiling import Profiler, summarize
from manage_scripts.benchmarks.stats import spread
from manage_scripts.stack.config import ROOT

PRODUCTS = 1_000
STOCK = 1_000_000_000


def products_ensure(bench: BenchEnv) -> None:
    """1,000 products BENCH-0000 … BENCH-0999 with stock that never runs out."""
    with psycopg2.connect(bench.dsn("inventory")) as conn, conn.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO stock_product (sku, name, unit_price, available_quantity,
                   reserved_quantity, sold_quantity, received_quantity, low_stock_threshold,
                   created_at, updated_at)
            SELECT 'BENCH-' || lpad(g::text, 4, '0'), 'bench product ' || g, 10 + g %% 90,
                   %(stock)s, 0, 0, %(stock)s, 10, now(), now()
              FROM generate_series(0, %(n)s - 1) AS g
            ON CONFLICT (sku) DO NOTHING
            """,
            {"n": PRODUCTS, "stock": STOCK},
        )
    conn.close()


def order_created_messages(count: int, seed: int) -> list[tuple[bytes, bytes, list]]:
    """`count` OrderCreated envelopes as the Order Service writes them, two lines each."""
    from shared_events.contracts import OrderCreatedIntegrationEvent, OrderLine
    from shared_events.registry import envelope_for

    rng = random.Random(seed)
    messages = []
    for i in range(count):
        order_id = uuid.uuid4()
        skus = rng.sample(range(PRODUCTS), 2)
        event = OrderCreatedIntegrationEvent(
            order_id=order_id,
            customer_id=f"bench-customer-{i % 5000}",
            lines=tuple(OrderLine(sku=f"BENCH-{s:04d}", quantity=1) for s in skus),
        )
        envelope = envelope_for(event, producer="order-service", correlation_id=str(order_id))
        headers = [
            ("event_type", envelope.event_type.encode()),
            ("event_version", str(envelope.event_version).encode()),
            ("correlation_id", str(order_id).encode()),
        ]
        messages.append((str(order_id).encode(), envelope.to_json_bytes(), headers))
    return messages


def _db_now(cursor: Any) -> float:
    cursor.execute("SELECT extract(epoch FROM clock_timestamp())")
    return float(cursor.fetchone()[0])


def _stock_totals(cursor: Any) -> tuple[int, int]:
    cursor.execute(
        "SELECT coalesce(sum(reserved_quantity), 0),"
        " count(*) FILTER (WHERE received_quantity"
        " <> available_quantity + reserved_quantity + sold_quantity)"
        " FROM stock_product WHERE sku LIKE 'BENCH-%%'"
    )
    reserved, broken = cursor.fetchone()
    return int(reserved), int(broken)


def _group_ready(kafka: Any, group: str, topic: str, *, members: int, timeout: float) -> bool:
    """Wait until the group is stable with `members` members, each holding partitions of
    `topic` and all of them every partition of it (the group also reads its retry topic)."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    client = AdminClient(kafka.client_config())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            [description] = [
                f.result(timeout=10)
                for f in client.describe_consumer_groups([group], request_timeout=10).values()
            ]
            held = [
                [tp for tp in m.assignment.topic_partitions if tp.topic == topic]
                if m.assignment
                else []
                for m in description.members
            ]
            if (
                description.state == ConsumerGroupState.STABLE
                and len(description.members) == members
                and sum(map(len, held)) == kafka.topic_partitions
                and all(held)
            ):
                return True
        except Exception:  # noqa: BLE001, S110 - not there yet: the group is still forming
            pass
        time.sleep(0.5)
    return False


def _checkpoint(cursor: Any) -> None:
    """Write out what earlier figures left dirty (the relay's million rows of history), so
    that PostgreSQL's checkpoint does not land inside this run."""
    # Skipped when BENCH_POSTGRES_URL names a role without pg_checkpoint.
    with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
        cursor.execute("CHECKPOINT")


def _consume_run(
    bench: BenchEnv,
    plan: dict[str, Any],
    *,
    processes: int,
    label: str,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    events = plan["consumer_events"]
    ns = bench.namespace(f"consume-{label}")
    bench.topics_create(ns)
    kafka = bench.kafka_settings(ns)
    topic = f"{ns}order-events"
    messages = order_created_messages(events, seed=zlib.crc32(label.encode()))
    order_ids = [m[0].decode() for m in messages]

    conn = psycopg2.connect(bench.dsn("inventory"))
    conn.autocommit = True
    cursor = conn.cursor()
    _checkpoint(cursor)
    reserved_before, _ = _stock_totals(cursor)
    env = bench.service_env("inventory", namespace=ns)
    logs = [bench.tmp_dir / f"consumer-{label}-{i}.log" for i in range(processes)]
    for log in logs:
        log.write_text("")

    def spawn(i: int) -> subprocess.Popen[bytes]:
        with logs[i].open("a") as out:
            return subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "inventory_service" / "manage.py"),
                    "consume_events",
                    "--instance-id",
                    f"{ns}consumer-{i}",
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    workers = [spawn(i) for i in range(processes)]
    # Start measuring once every process holds its partitions: a group join is not apply.
    ready = _group_ready(kafka, f"{ns}inventory-service", topic, members=processes, timeout=90)
    ready_s = round(time.monotonic() - started, 1)
    cpu_at_ready = [pid_cpu_seconds([w.pid]) for w in workers]
    # The bench's own tree (this process and the consumers) is not "other load".
    before = CpuSnapshot.take(os.getpid())
    started_db = _db_now(cursor)
    produced = raw_kafka.raw_produce(kafka.producer_config(), topic, messages, warm_up=False)
    del messages
    if produced["delivery_errors"]:
        raise RuntimeError(f"could not fill {topic}: {produced['first_error']}")
    # Like supervisord in the real stack: a consumer that dies is started again.
    crashes: list[dict[str, Any]] = []
    profiler = None
    if profile_to is not None:
        profiler = Profiler(profile_to, pid=workers[0].pid, idle=True, rate=200)
        profiler.start()
    done = 0
    deadline = started + plan["consumer_time_limit_s"]
    try:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM shared_events_processedevent"
                " WHERE processed_at >= to_timestamp(%s)",
                [started_db],
            )
            done = cursor.fetchone()[0]
            if done >= events:
                break
            for i, w in enumerate(workers):
                if w.poll() is not None and len(crashes) < 10:
                    tail = logs[i].read_text(errors="replace").strip().splitlines()[-1:]
                    crashes.append(
                        {
                            "process": i,
                            "exit_code": w.returncode,
                            "after_s": round(time.monotonic() - started, 1),
                            "last_log_line": tail[0][:300] if tail else "",
                        }
                    )
                    workers[i] = spawn(i)
            time.sleep(0.5)
        after = CpuSnapshot.take(os.getpid())
        cpu_applying = sum(pid_cpu_seconds([w.pid]) for w in workers) - sum(cpu_at_ready)
    finally:
        if profiler is not None:
            profiler.stop()
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
    wall = time.monotonic() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Every consumer process of the run has been waited for: their CPU, crashed ones included.
    consumer_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )

    cursor.execute(
        "SELECT extract(epoch FROM processed_at) FROM shared_events_processedevent"
        " WHERE processed_at >= to_timestamp(%s) ORDER BY processed_at",
        [started_db],
    )
    stamps = [float(r[0]) for r in cursor.fetchall()]
    steady = None
    if len(stamps) >= 20:
        lo, hi = int(0.05 * len(stamps)), int(0.95 * len(stamps)) - 1
        if stamps[hi] > stamps[lo]:
            steady = (hi - lo) / (stamps[hi] - stamps[lo])
    cursor.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'reserved')"
        " FROM stock_reservation WHERE order_id = ANY(%s::uuid[])",
        [order_ids],
    )
    reservations, reserved_ok = cursor.fetchone()
    cursor.execute(
        "SELECT count(*) FROM shared_events_outboxmessage"
        " WHERE created_at >= to_timestamp(%s) AND event_type = 'StockReservedIntegrationEvent'",
        [started_db],
    )
    outbox_rows = cursor.fetchone()[0]
    reserved_after, broken_products = _stock_totals(cursor)
    cursor.close()
    conn.close()
    dead_letters = raw_kafka.topic_message_count(kafka.client_config(), f"{topic}.dlq")
    cpu = after.since(before)
    verified = (
        len(stamps) == events
        and reservations == events
        and reserved_ok == events
        and outbox_rows == events
        and reserved_after - reserved_before == 2 * events
        and broken_products == 0
        and dead_letters == 0
    )
    result = {
        "processes": processes,
        "events": events,
        "applied": len(stamps),
        "events_per_s_total": round(steady, 1) if steady else None,
        "events_per_s_per_process": round(steady / processes, 1) if steady else None,
        "events_per_s_first_to_last": round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 1)
        if len(stamps) > 1 and stamps[-1] > stamps[0]
        else None,
        "wall_s_including_startup": round(wall, 2),
        "group_ready": ready,
        "group_ready_after_s": ready_s,
        "consumer_cpu_s_including_startup": round(consumer_cpu, 2),
        "consumer_cpu_s": round(cpu_applying, 2),
        "consumer_cpu_ms_per_event": round(1000 * cpu_applying / max(len(stamps), 1), 3),
        "consumer_crashes_restarted": crashes,
        "infra_cpu_ms_per_event": round(1000 * cpu["infra_cpu_s"] / max(len(stamps), 1), 3),
        "machine_busy_pct": cpu["machine_busy_pct"],
        "other_cpu_s": cpu["other_cpu_s"],
        "verified": verified,
        "checks": {
            "reservations": reservations,
            "reserved_status": reserved_ok,
            "stock_reserved_outbox_rows": outbox_rows,
            "reserved_units_added": reserved_after - reserved_before,
            "products_breaking_conservation": broken_products,
            "dead_letters": dead_letters,
        },
    }
    print(
        f"[bench] consumer {label}: {processes} process(es), {result['events_per_s_total']}"
        f" events/s total ({result['applied']}/{events} applied, verified={verified},"
        f" {len(crashes)} crash(es) restarted, machine busy {cpu['machine_busy_pct']}%,"
        f" other CPU {cpu['other_cpu_s']}s)",
        flush=True,
    )
    if profiler is not None:
        result["profile_error"] = profiler.error
    return result


# --- in-process apply: the same handler without Kafka (worker process) --------------------


BATCH = 200  # consume_events' default --batch-size


def in_process_worker(count: int, out: Path) -> None:
    """The inventory handlers through the inbox in a loop, no Kafka: the database side.

    One transaction per event (how a lone message, or a failed batch, is applied) against
    one per batch of 200 (how consume_events applies what one poll returns), interleaved in
    chunks so that a change in the machine's load hits both alike.
    """
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shared_events.django.conf import events_config
    from shared_events.django.inbox import event_apply, events_apply
    from shared_events.registry import decode_event

    handlers = events_config().handlers()

    def one_by_one(values: list[bytes]) -> float:
        started = time.perf_counter()
        for value in values:
            event = decode_event(value)
            event_apply(event, handlers)
        return time.perf_counter() - started

    def batched(values: list[bytes]) -> float:
        started = time.perf_counter()
        for i in range(0, len(values), BATCH):
            events_apply([decode_event(v) for v in values[i : i + BATCH]], handlers)
        return time.perf_counter() - started

    chunk = 2 * BATCH
    count = max(chunk, count // chunk * chunk)
    messages = [m[1] for m in order_created_messages(2 * count + 20 + 2 * BATCH, seed=count)]
    one_by_one(messages[:20])  # connect, warm caches
    with CaptureQueriesContext(connection) as single_queries:
        one_by_one(messages[20:70])
    with CaptureQueriesContext(connection) as batch_queries:
        batched(messages[70 : 70 + BATCH])
    rest = messages[70 + BATCH :]
    elapsed_single = elapsed_batched = 0.0
    for start in range(0, 2 * count, 2 * chunk):
        elapsed_single += one_by_one(rest[start : start + chunk])
        elapsed_batched += batched(rest[start + chunk : start + 2 * chunk])
    per_single = len(single_queries.captured_queries) / 50
    out.write_text(
        json.dumps(
            {
                "events": count,
                "events_per_s_one_by_one": round(count / elapsed_single, 1),
                "events_per_s_batched": round(count / elapsed_batched, 1),
                "queries_per_event_one_by_one": round(per_single, 2),
                "queries_per_batch_of_200": len(batch_queries.captured_queries),
                "queries_of_one_event": [
                    " ".join(q["sql"].split())[:110]
                    for q in single_queries.captured_queries[: round(per_single)]
                ],
                "queries_of_one_batch": [
                    " ".join(q["sql"].split())[:110] for q in batch_queries.captured_queries
                ],
            }
        )
    )


def _in_process(bench: BenchEnv, count: int) -> dict[str, Any]:
    out = bench.tmp_dir / "consumer-in-process.json"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "manage_scripts.benchmarks.consumer_apply", str(count), str(out)],
        env=bench.service_env("inventory", namespace=bench.namespace("in-process")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not out.exists():
        return {"error": (result.stdout + result.stderr)[-2000:]}
    data = json.loads(out.read_text())
    print(
        f"[bench] consumer in-process: {data['events_per_s_batched']} events/s in batches of"
        f" {BATCH} ({data['queries_per_batch_of_200']} statements a batch),"
        f" {data['events_per_s_one_by_one']} one by one"
        f" ({data['queries_per_event_one_by_one']} statements an event)",
        flush=True,
    )
    return data


def run(bench: BenchEnv, plan: dict[str, Any], *, profile: bool) -> dict[str, Any]:
    products_ensure(bench)
    bench.redis_flush()
    figure: dict[str, Any] = {
        "description": (
            "manage.py consume_events (Inventory Service, dev settings) applying "
            f"{plan['consumer_events']:,} pre-produced OrderCreated events (2 lines each, "
            f"{PRODUCTS} products), produced once every consumer holds its partitions; rate"
            " between the 5th and 95th percentile processed_at"
        ),
        "events_per_run": plan["consumer_events"],
    }
    for processes in (1, 2):
        runs = [
            _consume_run(bench, plan, processes=processes, label=f"p{processes}-{i}")
            for i in range(plan["repeats"])
        ]
        figure[f"processes_{processes}"] = {
            "events_per_s_total": spread([r["events_per_s_total"] for r in runs], "events/s"),
            "events_per_s_per_process": spread(
                [r["events_per_s_per_process"] for r in runs], "events/s"
            ),
            "consumer_cpu_ms_per_event": spread(
                [r["consumer_cpu_ms_per_event"] for r in runs], "ms", 3
            ),
            "infra_cpu_ms_per_event": spread([r["infra_cpu_ms_per_event"] for r in runs], "ms", 3),
            "all_verified": all(r["verified"] for r in runs),
            "consumer_crashes": sum(len(r["consumer_crashes_restarted"]) for r in runs),
            "runs": runs,
        }
    figure["in_process_event_apply"] = {
        "description": "decode_event + the inbox with the inventory handlers in a loop, one"
        f" process, no Kafka: one transaction per event, and one per batch of {BATCH}",
        **_in_process(bench, plan["consumer_in_process_events"]),
    }
    if profile:
        path = bench.tmp_dir / "profile-consumer.txt"
        profiled = _consume_run(bench, plan, processes=1, label="profile", profile_to=path)
        figure["profile"] = {
            "run_events_per_s_under_profiler": profiled["events_per_s_total"],
            **summarize(path, must_contain="kafka/consumer.py"),
            "mode": "py-spy --idle (wall clock) at 200 Hz on one consumer process,"
            " stacks inside the ConsumerLoop (shared_events/kafka/consumer.py)",
            "error": profiled.get("profile_error", ""),
        }
    return figure


if __name__ == "__main__":
    in_process_worker(int(sys.argv[1]), Path(sys.argv[2]))
