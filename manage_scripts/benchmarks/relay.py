"""Figure 2: how fast one relay drains a pre-filled outbox, with and without history.

Each run is a fresh process (`python -m manage_scripts.benchmarks.relay`) with the
Order Service's dev settings pointed at `bench_order_service`: it warms the relay up
on 1,000 rows, bulk-inserts the rows to drain with one INSERT … SELECT generate_series
(OrderCreated envelopes with two lines, the same shape the service writes), measures
the raw Kafka baseline on exactly those rows (figure 1), then calls the project's
`relay_outbox()` until every row is published and checks the topic holds them all.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from manage_scripts.benchmarks import raw_kafka
from manage_scripts.benchmarks.cpu import CpuSnapshot
from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.benchmarks.profiling import Profiler, summarize
from manage_scripts.benchmarks.stats import spread
from manage_scripts.stack.config import ROOT

TABLE = "shared_events_outboxmessage"
WARMUP_ROWS = 1_000

# One OrderCreated envelope per row, as `model_dump_json` writes it (compact, same keys).
_ENVELOPE = (
    'format(\'{"event_id":"%%s","event_type":"OrderCreatedIntegrationEvent",'
    '"event_version":1,"occurred_at":"%%s","producer":"order-service",'
    '"correlation_id":"%%s","causation_id":null,"payload":{"order_id":"%%s",'
    '"customer_id":"bench-customer-%%s","lines":[{"sku":"%%s","quantity":1},'
    '{"sku":"%%s","quantity":1}]}}\', s.event_id, '
    "to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "s.order_id, s.order_id, s.g %% 5000, s.sku1, s.sku2)"
)

_PREFILL = f"""
INSERT INTO {TABLE} (event_id, event_type, event_version, topic, message_key,
                     correlation_id, body, created_at, published_at, attempts, last_error)
SELECT s.event_id, 'OrderCreatedIntegrationEvent', 1, %(topic)s, s.order_id::text,
       s.order_id::text, {_ENVELOPE}, s.at, s.published_at, 0, ''
  FROM (SELECT gen_random_uuid() AS event_id, gen_random_uuid() AS order_id, g,
               'BENCH-' || lpad(least(g * 37 %% 1000, (g * 37 + 500) %% 1000)::text, 4, '0')
                   AS sku1,
               'BENCH-' || lpad(greatest(g * 37 %% 1000, (g * 37 + 500) %% 1000)::text, 4, '0')
                   AS sku2,
               CASE WHEN %(published)s THEN now() - random() * interval '6 days'
                    ELSE now() END AS at,
               CASE WHEN %(published)s THEN now() - random() * interval '6 days' END
                   AS published_at
          FROM generate_series(1, %(rows)s) AS g) AS s
"""  # noqa: S608 - the outbox table's name, a constant; no input reaches this SQL


# --- inside the worker process (Django set up for the Order Service) ------------------


def _prefill(cursor: Any, *, rows: int, topic: str, published: bool) -> float:
    started = time.perf_counter()
    cursor.execute(_PREFILL, {"rows": rows, "topic": topic, "published": published})
    return time.perf_counter() - started


def _pending(cursor: Any) -> int:
    cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE published_at IS NULL")  # noqa: S608 - the outbox table's name, a constant; no input reaches this SQL
    return cursor.fetchone()[0]


def relay_drain_timed(expected: int, *, time_limit: float) -> dict[str, Any]:
    """Call the project's relay until `expected` rows are published (the profiled part)."""
    from shared_events.django.relay import relay_outbox

    published = failed = calls = 0
    before = CpuSnapshot.take(None)
    started = time.perf_counter()
    deadline = started + time_limit
    while published < expected and time.perf_counter() < deadline and calls < 100_000:
        result = relay_outbox()
        calls += 1
        published += result.published
        failed += result.failed
        if not result.published:
            time.sleep(0.01)  # busy, backing off or failing: do not spin
    elapsed = time.perf_counter() - started
    cpu = CpuSnapshot.take(None).since(before)
    return {
        "relay_process_cpu_s": cpu["load_generator_cpu_s"],
        "relay_process_cpu_pct_of_wall": round(100 * cpu["load_generator_cpu_s"] / elapsed, 1)
        if elapsed
        else None,
        "infra_cpu_s": cpu["infra_cpu_s"],
        "other_cpu_s": cpu["other_cpu_s"],
        "machine_busy_pct": cpu["machine_busy_pct"],
        "published": published,
        "failed": failed,
        "relay_outbox_calls": calls,
        "seconds": round(elapsed, 3),
        "events_per_s": round(published / elapsed, 1) if elapsed else None,
    }


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from shared_events.django.conf import events_config

    kafka = events_config().kafka
    out: dict[str, Any] = {"pid": os.getpid()}
    with connection.cursor() as cursor:
        if args.action == "reset":
            cursor.execute(f"TRUNCATE {TABLE} RESTART IDENTITY")
            return out
        if args.action == "history":
            out["prefill_s"] = round(
                _prefill(cursor, rows=args.rows, topic=args.topic, published=True), 2
            )
            started = time.perf_counter()
            cursor.execute(f"VACUUM ANALYZE {TABLE}")
            out["vacuum_analyze_s"] = round(time.perf_counter() - started, 2)
            return out
        # action == "drain"
        cursor.execute(f"SELECT coalesce(max(id), 0), count(*) FROM {TABLE}")  # noqa: S608 - the outbox table's name, a constant; no input reaches this SQL
        keep_max_id, out["history_rows"] = cursor.fetchone()
        cursor.execute(f"SELECT pg_total_relation_size('{TABLE}'), pg_indexes_size('{TABLE}')")
        out["table_bytes_before"], out["index_bytes_before"] = cursor.fetchone()
        # Warm-up: connect the producer and the database, as a long-lived worker is.
        _prefill(cursor, rows=WARMUP_ROWS, topic=args.topic, published=False)
        out["warmup"] = relay_drain_timed(WARMUP_ROWS, time_limit=60)
        out["prefill_s"] = round(
            _prefill(cursor, rows=args.rows, topic=args.topic, published=False), 2
        )
        started = time.perf_counter()
        cursor.execute(f"ANALYZE {TABLE}")
        out["analyze_s"] = round(time.perf_counter() - started, 2)
        # Every run starts with nothing left to write back: writing the history (or the
        # previous run's rows) leaves dirty pages whose writeback would slow this run, and
        # Kafka's writes with it, whatever the relay does.
        cursor.execute("CHECKPOINT")
        os.sync()
        out["pending_before"] = _pending(cursor)
        if args.raw_topic:
            cursor.execute(
                f"SELECT message_key, body, event_type, event_version, correlation_id, event_id"  # noqa: S608 - the outbox table's name, a constant; no input reaches this SQL
                f" FROM {TABLE} WHERE published_at IS NULL ORDER BY id"
            )
            rows = [
                (
                    key.encode(),
                    body.encode(),
                    [
                        ("event_type", event_type.encode()),
                        ("event_version", str(version).encode()),
                        ("correlation_id", correlation.encode()),
                        ("event_id", str(event_id).encode()),
                    ],
                )
                for key, body, event_type, version, correlation, event_id in cursor.fetchall()
            ]
            config = kafka.producer_config()
            out["produce_flush_once"] = raw_kafka.raw_produce(config, args.raw_topic, rows)
            out["produce_flush_every_1000"] = raw_kafka.raw_produce(
                config, args.raw_topic, rows, flush_every=1000
            )
            consumed = raw_kafka.raw_consume(kafka.client_config(), args.raw_topic, 2 * len(rows))
            out["decode"] = raw_kafka.decode_rate(consumed.pop("_values"))
            out["consume"] = consumed
            out["body_bytes_avg"] = round(sum(len(r[1]) for r in rows) / max(len(rows), 1), 1)
            del rows
        out["relay"] = relay_drain_timed(args.rows, time_limit=args.time_limit)
        out["pending_after"] = _pending(cursor)
        out["topic_messages"] = raw_kafka.topic_message_count(kafka.client_config(), args.topic)
        out["topic_messages_expected"] = WARMUP_ROWS + args.rows
        # Leave the table as it was: no rows (truncate) or exactly the history.
        if args.cleanup == "truncate":
            cursor.execute(f"TRUNCATE {TABLE} RESTART IDENTITY")
        else:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id > %s", [keep_max_id])  # noqa: S608 - the outbox table's name, a constant; no input reaches this SQL
            cursor.execute(f"VACUUM ANALYZE {TABLE}")
    return out


def _worker_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--action", choices=["reset", "history", "drain"], required=True)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--topic", default="")
    parser.add_argument("--raw-topic", default="")
    parser.add_argument("--cleanup", choices=["truncate", "keep-history"], default="truncate")
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    Path(args.out).write_text(json.dumps(worker(args)))


# --- in the runner ----------------------------------------------------------------------


def _run_worker(
    bench: BenchEnv,
    namespace: str,
    *args: str,
    name: str,
    profile_to: Path | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    out = bench.tmp_dir / f"relay-{name}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "manage_scripts.benchmarks.relay", *args, "--out", str(out)]
    process = subprocess.Popen(
        command,
        env=bench.service_env("order", namespace=namespace),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    profiler = None
    if profile_to is not None:
        # --idle: the relay's wall-clock time, waiting on Kafka and PostgreSQL included.
        profiler = Profiler(profile_to, pid=process.pid, idle=True, rate=200)
        profiler.start()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise RuntimeError(f"relay worker {name} timed out after {timeout}s") from None
    finally:
        if profiler is not None:
            profiler.stop()
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"relay worker {name} failed ({process.returncode}):\n{output[-3000:]}")
    result = json.loads(out.read_text())
    if profiler is not None:
        result["profile_error"] = profiler.error
    return result


def _drain(
    bench: BenchEnv, plan: dict[str, Any], label: str, cleanup: str, profile: Path | None = None
) -> dict[str, Any]:
    relay_ns, raw_ns = bench.namespace(f"relay-{label}"), bench.namespace(f"raw-{label}")
    bench.topics_create(relay_ns)
    bench.topics_create(raw_ns)
    args = [
        "--action",
        "drain",
        "--rows",
        str(plan["relay_rows"]),
        "--topic",
        f"{relay_ns}order-events",
        "--cleanup",
        cleanup,
        "--time-limit",
        str(plan["relay_time_limit_s"]),
    ]
    if profile is None:
        args += ["--raw-topic", f"{raw_ns}order-events"]
    run = _run_worker(bench, relay_ns, *args, name=label, profile_to=profile)
    relay = run["relay"]
    ok = (
        run["pending_after"] == 0
        and relay["failed"] == 0
        and run["topic_messages"] == run["topic_messages_expected"]
    )
    run["complete_and_verified"] = ok
    if "produce_flush_once" in run:
        run["ratio_to_raw_producer"] = round(
            relay["events_per_s"] / run["produce_flush_once"]["events_per_s"], 3
        )
    print(
        f"[bench] relay {label}: {relay['events_per_s']} events/s"
        f" ({relay['published']} in {relay['seconds']}s, history {run['history_rows']},"
        f" verified={ok})"
        + (
            f"; raw producer {run['produce_flush_once']['events_per_s']}/s"
            f", raw consumer {run['consume']['events_per_s']}/s"
            if "produce_flush_once" in run
            else ""
        ),
        flush=True,
    )
    return run


def run(bench: BenchEnv, plan: dict[str, Any], *, profile: bool) -> dict[str, Any]:
    """Figures 1 and 2: raw baseline and relay drain, without history and with it."""
    ns = bench.namespace("relay")
    reps = plan["repeats"]
    _run_worker(bench, ns, "--action", "reset", name="reset")
    # Run once and not counted: a broker the bench has just started compiles its hot paths
    # during the first drain, which then measures the JVM's warm-up rather than the relay.
    warm_up = _drain(bench, plan, "warm-up", "truncate")
    fresh = [_drain(bench, plan, f"a{i}", "truncate") for i in range(reps)]
    profiles = {}
    if profile:
        path = bench.tmp_dir / "profile-relay-no-history.txt"
        profiled = _drain(bench, plan, "profile-a", "truncate", profile=path)
        profiles["relay_no_history"] = {
            "run_events_per_s_under_profiler": profiled["relay"]["events_per_s"],
            **summarize(path, must_contain="relay_drain_timed"),
            "mode": "py-spy --idle (wall clock) at 200 Hz, stacks inside relay_drain_timed",
            "error": profiled.get("profile_error", ""),
        }

    history_rows = plan["relay_history_rows"]
    history = _run_worker(
        bench,
        ns,
        "--action",
        "history",
        "--rows",
        str(history_rows),
        "--topic",
        f"{ns}order-events",
        name="history",
        timeout=1800,
    )
    print(
        f"[bench] relay history: {history_rows} published rows in {history['prefill_s']}s"
        f" (+ VACUUM ANALYZE {history['vacuum_analyze_s']}s)",
        flush=True,
    )
    with_history = [_drain(bench, plan, f"b{i}", "keep-history") for i in range(reps)]

    if profile:
        path = bench.tmp_dir / "profile-relay-history.txt"
        profiled = _drain(bench, plan, "profile-b", "keep-history", profile=path)
        profiles["relay_with_history"] = {
            "run_events_per_s_under_profiler": profiled["relay"]["events_per_s"],
            **summarize(path, must_contain="relay_drain_timed"),
            "mode": "py-spy --idle (wall clock) at 200 Hz, stacks inside relay_drain_timed",
            "error": profiled.get("profile_error", ""),
        }
    _run_worker(bench, ns, "--action", "reset", name="reset-end")

    def rates(runs: list[dict[str, Any]]) -> list[float | None]:
        return [r["relay"]["events_per_s"] for r in runs]

    fresh_median = spread(rates(fresh), "events/s")["median"]
    history_median = spread(rates(with_history), "events/s")["median"]
    return {
        "raw_kafka": raw_kafka.summarize(fresh + with_history, _producer_config(bench)),
        "relay": {
            "description": (
                "one relay process calling shared_events.django.relay.relay_outbox() until "
                f"{plan['relay_rows']:,} pre-filled rows are published; warm (1,000 rows "
                "relayed first); ANALYZE, CHECKPOINT and sync after the bulk insert; one uncounted"
                " drain first"
            ),
            "rows_per_run": plan["relay_rows"],
            "no_history": {
                "history_rows": 0,
                "events_per_s": spread(rates(fresh), "events/s"),
                "ratio_to_raw_producer": spread(
                    [r.get("ratio_to_raw_producer") for r in fresh], "ratio", 3
                ),
            },
            "with_history": {
                "history_rows": history_rows,
                "history_prefill_s": history["prefill_s"],
                "events_per_s": spread(rates(with_history), "events/s"),
                "ratio_to_raw_producer": spread(
                    [r.get("ratio_to_raw_producer") for r in with_history], "ratio", 3
                ),
            },
            "history_change_pct": round(100 * (history_median / fresh_median - 1), 1)
            if fresh_median and history_median
            else None,
            "all_runs_verified": all(
                r["complete_and_verified"] for r in [warm_up, *fresh, *with_history]
            ),
            "runs": [_strip(r) for r in fresh + with_history],
            "warm_up_run": _strip(warm_up),
        },
        "profiles": profiles,
    }


def _producer_config(bench: BenchEnv) -> dict[str, Any]:
    return bench.kafka_settings("").producer_config()


def _strip(run: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "history_rows",
        "table_bytes_before",
        "index_bytes_before",
        "prefill_s",
        "analyze_s",
        "pending_before",
        "relay",
        "pending_after",
        "topic_messages",
        "topic_messages_expected",
        "complete_and_verified",
        "ratio_to_raw_producer",
        "body_bytes_avg",
    )
    return {k: run[k] for k in keep if k in run}


if __name__ == "__main__":
    _worker_main()
