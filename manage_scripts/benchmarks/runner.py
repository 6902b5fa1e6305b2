"""Run the benchmark figures in order and write the reports.

    manage_scripts/bench            full run  -> bench-reports/latest.{json,md}
    manage_scripts/bench --quick    smoke run -> bench-reports/tmp/quick.{json,md}

Runs inside `manage_scripts.stack --infra-only` (see manage_scripts/bench), so PostgreSQL, Redis
and Kafka are up. Figures 1-3 call the project's code against the bench databases;
figures 4-5 start a stack of their own through `manage_scripts.stack`.
"""

import argparse
import asyncio
import datetime
import os
import shlex
import sys
import time
import traceback
from typing import Any

import psycopg2

from manage_scripts.benchmarks import (
    authentication,
    consumer_apply,
    end_to_end,
    flash_sale,
    gateway,
    machine,
    push_latency,
    raw_kafka,
    relay,
    report,
)
from manage_scripts.benchmarks.cpu import wait_for_quiet
from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.benchmarks.profiling import py_spy_path
from manage_scripts.benchmarks.stack import BenchStack
from manage_scripts.benchmarks.stats import latency_summary
from manage_scripts.stack.config import ROOT

FIGURES = ("auth", "relay", "consumer", "e2e", "flash", "gateway", "push")

PLANS: dict[str, dict[str, Any]] = {
    "full": {
        "repeats": 3,
        "auth_requests": 2_000,
        "relay_rows": 100_000,
        "relay_history_rows": 1_000_000,
        "relay_time_limit_s": 300,
        "consumer_events": 20_000,
        "consumer_in_process_events": 1_000,
        "consumer_time_limit_s": 240,
        "kafka_warm_up_messages": 200_000,
        "e2e_rates": [10, 50, 100, 150, 200, 250, 300],
        "e2e_duration_s": 30,
        "e2e_repeats": 2,
        "e2e_drain_s": 30,
        "e2e_max_in_flight": 400,
        "e2e_profile_rate": 100,
        "e2e_profile_duration_s": 15,
        "flash_buyers": 500,
        "flash_units": 50,
        "flash_repeats": 3,
        "flash_time_limit_s": 60,
        "gateway_requests": 1_000,
        "gateway_rate": 20,
        "push_rate": 50,
        "push_duration_s": 20,
        "quiet_wait_s": 60,
        "e2e_repeat_backlog_wait_s": 120,
    },
    "quick": {
        "repeats": 1,
        "auth_requests": 200,
        "relay_rows": 10_000,
        "relay_history_rows": 100_000,
        "relay_time_limit_s": 120,
        "consumer_events": 4_000,
        "consumer_in_process_events": 200,
        "consumer_time_limit_s": 120,
        "kafka_warm_up_messages": 20_000,
        "e2e_rates": [10, 50, 100, 200],
        "e2e_duration_s": 5,
        "e2e_repeats": 1,
        "e2e_drain_s": 20,
        "e2e_max_in_flight": 400,
        "e2e_profile_rate": 100,
        "e2e_profile_duration_s": 5,
        "flash_buyers": 500,
        "flash_units": 50,
        "flash_repeats": 1,
        "flash_time_limit_s": 60,
        "gateway_requests": 100,
        "gateway_rate": 20,
        "push_rate": 50,
        "push_duration_s": 4,
        "quiet_wait_s": 10,
        "e2e_repeat_backlog_wait_s": 30,
    },
}


def commit_latency(bench: BenchEnv, count: int = 300) -> dict[str, Any]:
    """What one small committed transaction costs on this disk (synchronous_commit=on)."""
    conn = psycopg2.connect(bench.dsn("order"))
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial, v int)")
        conn.commit()
        samples = []
        for i in range(count):
            started = time.perf_counter()
            with conn.cursor() as cursor:
                cursor.execute("INSERT INTO bench_commit_probe (v) VALUES (%s)", [i])
            conn.commit()
            samples.append(time.perf_counter() - started)
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE bench_commit_probe")
        conn.commit()
    finally:
        conn.close()
    return {"single_row_insert_commit": latency_summary(samples)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="manage_scripts/bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated subset of {','.join(FIGURES)}"
    )
    parser.add_argument("--repeats", type=int, help="override the number of repeats")
    parser.add_argument("--rates", help="override the end-to-end rates, e.g. 10,50,100")
    parser.add_argument("--duration", type=float, help="override seconds per end-to-end rate")
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--profile", action="store_true", help="profile in --quick mode too")
    profile.add_argument("--no-profile", action="store_true", help="skip the profiled runs")
    parser.add_argument("--output", help="report path without extension")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    plan = dict(PLANS[mode])
    if args.repeats:
        plan["repeats"] = plan["e2e_repeats"] = plan["flash_repeats"] = args.repeats
    if args.rates:
        plan["e2e_rates"] = [float(r) if "." in r else int(r) for r in args.rates.split(",")]
    if args.duration:
        plan["e2e_duration_s"] = args.duration
    only = {f.strip() for f in args.only.split(",") if f.strip()}
    unknown = only - set(FIGURES)
    if unknown:
        print(f"unknown figure(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    profile = (mode == "full" and not args.no_profile) or args.profile
    if profile and py_spy_path() is None:
        print("[bench] py-spy not found: no profiles (.venv/bin/pip install py-spy)", flush=True)
        profile = False
    default_output = "bench-reports/latest" if mode == "full" else "bench-reports/tmp/quick"
    output = ROOT / (args.output or default_output)

    bench = BenchEnv.from_env()
    started = time.time()
    result: dict[str, Any] = {
        "schema": 1,
        "mode": mode,
        "command": "manage_scripts/bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "run_id": bench.run_id,
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "figures_run": sorted(only),
        "plan": {**plan, "profiles": profile},
        "machine": machine.machine_info(),
        "versions": {
            **machine.package_versions(),
            **machine.server_versions(bench.dsn(), f"{bench.redis_base}/0", bench.kafka_bootstrap),
        },
        "code": machine.code_under_test(),
        "isolation": {
            "kafka_names": f"{bench.name_prefix}* (deleted at the end)",
            "databases": list(bench.databases.values()),
            "redis": [bench.redis_url(s) for s in ("order", "inventory")],
            "stack_ports": bench.ports,
            "stack_run_dir": str(bench.stack_run_dir.relative_to(ROOT)),
            "settings_module": "<service>_service.settings.dev (DEBUG=True)",
        },
        "figures": {},
        "profiles": {},
        "errors": {},
        "notes": [],
    }
    if mode == "quick":
        result["notes"].append(
            "QUICK smoke run: small row counts, short durations, one repeat - not the figures."
        )
    result["notes"] += [
        f"End to end: rates {plan['e2e_rates']} orders/s, {plan['e2e_duration_s']:g} s each,"
        f" {plan['e2e_repeats']} repeat(s), at most {plan['e2e_drain_s']} s of drain after each"
        " rate (the full run adds 150/s near the knee and 250 and 300/s for the stretch). Other"
        f" figures: {plan['repeats']} repeat(s); flash sale {plan['flash_repeats']}.",
        f"Relay: {plan['relay_rows']:,} rows per run, history {plan['relay_history_rows']:,}"
        f" rows. Consumer apply: {plan['consumer_events']:,} events per run.",
        "Services run with their dev settings (DEBUG=True) and as many processes as"
        f" manage_scripts/up starts (WEB_WORKERS={os.environ.get('WEB_WORKERS') or 'two per core'}"
        " gunicorn workers a service, one relay and one consumer a service).",
        "Other programs may share the machine: every measurement records the"
        " other load (CPU not used by the bench) and the bench waits up to"
        f" {plan['quiet_wait_s']} s for a quiet machine before each figure and e2e repeat.",
    ]
    print(f"[bench] {mode} run {bench.run_id}: {', '.join(sorted(only))}", flush=True)
    try:
        bench.databases_recreate_and_migrate(namespace=bench.namespace())
        result["machine"]["postgres_commit_latency"] = commit_latency(bench)
        try:
            result["machine"]["kafka_warm_up"] = _broker_warm_up(bench, plan)
        except Exception:  # noqa: BLE001 - reported; the figures still run, unwarmed
            result["errors"]["kafka_warm_up"] = traceback.format_exc()
            print(result["errors"]["kafka_warm_up"], file=sys.stderr, flush=True)
        if "auth" in only:
            _figure(result, "authentication", lambda: authentication.run(bench, plan))
        if "relay" in only:
            _figure(result, "relay", lambda: _relay(bench, plan, profile, result))
        if "consumer" in only:
            _figure(result, "consumer_apply", lambda: _consumer(bench, plan, profile, result))
        if only & {"e2e", "flash", "gateway", "push"}:
            stack = BenchStack(bench, bench.namespace())
            try:
                print("[bench] starting the stack (manage_scripts.stack)", flush=True)
                stack.start()
                result["stack"] = {"startup_s": stack.startup_s, "programs": stack.programs()}
                if "e2e" in only:
                    _figure(result, "end_to_end", lambda: _e2e(stack, plan, profile, result))
                if "flash" in only:
                    _figure(result, "flash_sale", lambda: flash_sale.run(stack, plan))
                if "gateway" in only:
                    _figure(result, "gateway_overhead", lambda: gateway.run(stack, plan))
                if "push" in only:
                    _figure(result, "push_latency", lambda: _push(stack, plan))
            except Exception:  # noqa: BLE001 - reported, and the stack is still stopped
                result["errors"]["stack"] = traceback.format_exc()
                print(result["errors"]["stack"], file=sys.stderr, flush=True)
            finally:
                print("[bench] stopping the stack (SIGTERM)", flush=True)
                result.setdefault("stack", {})["exit_code"] = stack.stop()
    finally:
        try:
            result["kafka_cleanup"] = bench.kafka_cleanup()
            bench.redis_flush()
        except Exception:  # noqa: BLE001 - best effort, reported
            result["errors"]["cleanup"] = traceback.format_exc()
        result["machine"]["loadavg_at_end"] = machine.loadavg()
        # Others edit the tree while the bench runs: say so when the code moved under it.
        result["code_at_end"] = machine.code_under_test()
        if result["code_at_end"] != result["code"]:
            result["notes"].append(
                "The code under test changed while the bench ran (see code and code_at_end)."
            )
        result["duration_s"] = round(time.time() - started, 1)
        result["targets"] = report.targets(result["figures"])
        result["bottleneck_notes"] = _bottleneck_notes(result)
        report.write(result, output.with_suffix(".json"), output.with_suffix(".md"))
        print(f"[bench] wrote {output.with_suffix('.json')} and {output.with_suffix('.md')}")
        for t in result["targets"]:
            met = {True: "met", False: "MISSED", None: "not run"}[t["met"]]
            print(f"[bench]   {t['target']}: {t['measured']} (goal {t['goal']}) {met}")
    return 1 if result["errors"] else 0


def _broker_warm_up(bench: BenchEnv, plan: dict[str, Any]) -> dict[str, Any]:
    ns = bench.namespace("warm-up")
    bench.topics_create(ns)
    kafka = bench.kafka_settings(ns)
    warm = raw_kafka.broker_warm_up(
        kafka.producer_config(),
        kafka.client_config(),
        f"{ns}order-events",
        messages=plan["kafka_warm_up_messages"],
    )
    print(f"[bench] Kafka warmed up (uncounted): {warm}", flush=True)
    return warm


def _figure(result: dict[str, Any], name: str, run: Any) -> None:
    quiet = wait_for_quiet(max_wait=result["plan"]["quiet_wait_s"])
    result.setdefault("quiet_waits", {})[name] = quiet
    print(
        f"[bench] {name}: other load {quiet['other_load_cores']} cores after waiting"
        f" {quiet['waited_s']}s for a quiet machine",
        flush=True,
    )
    started = time.monotonic()
    try:
        figure = run()
        if figure is not None:
            result["figures"][name] = figure
    except Exception:  # noqa: BLE001 - one figure failing must not lose the others
        result["errors"][name] = traceback.format_exc()
        print(result["errors"][name], file=sys.stderr, flush=True)
    result.setdefault("timings_s", {})[name] = round(time.monotonic() - started, 1)


def _relay(bench: BenchEnv, plan: dict[str, Any], profile: bool, result: dict[str, Any]) -> None:
    figures = relay.run(bench, plan, profile=profile)
    result["figures"]["raw_kafka"] = figures["raw_kafka"]
    result["profiles"].update({f"relay: {k}": v for k, v in figures["profiles"].items()})
    return figures["relay"]


def _consumer(
    bench: BenchEnv, plan: dict[str, Any], profile: bool, result: dict[str, Any]
) -> dict[str, Any]:
    figure = consumer_apply.run(bench, plan, profile=profile)
    if "profile" in figure:
        result["profiles"]["consumer apply: one process"] = figure.pop("profile")
    return figure


def _e2e(
    stack: BenchStack, plan: dict[str, Any], profile: bool, result: dict[str, Any]
) -> dict[str, Any]:
    figure = end_to_end.run(stack, plan, profile=profile)
    for name, p in figure.pop("profiles").items():
        result["profiles"][f"end to end: {name} at {p['rate']}/s"] = p
    return figure


def _push(stack: BenchStack, plan: dict[str, Any]) -> dict[str, Any]:
    # As a browser and the mobile app reach them: through the gateway, over every instance.
    gateway = f"http://127.0.0.1:{stack.bench.ports['gateway']}"
    args = argparse.Namespace(
        rate=plan["push_rate"],
        duration=plan["push_duration_s"],
        timeout=60.0,
        order_url=gateway,
        inventory_url=gateway,
        storefront_url=gateway,
        staff=stack.username,
        staff_password=stack.password,
    )
    return asyncio.run(push_latency.run(args))


def _bottleneck_notes(result: dict[str, Any]) -> list[str]:
    """Facts from the measurements that point at the bottlenecks."""
    notes = []
    for title, profile in result["profiles"].items():
        top = profile.get("top_self", [])[:3]
        if top:
            notes.append(
                f"{title}: most samples in " + "; ".join(f"`{f['frame']}` {f['pct']}%" for f in top)
            )
        programs = profile.get("programs", [])
        if len(programs) > 1:
            notes.append(
                f"{title}: CPU by program "
                + ", ".join(f"{p['frame']} {p['pct']}%" for p in programs[:6])
            )
    figures = result["figures"]
    relay_runs = figures.get("relay", {}).get("runs", [])
    for history in sorted({r["history_rows"] for r in relay_runs}):
        runs = [r["relay"] for r in relay_runs if r["history_rows"] == history]
        busy = sorted(r.get("relay_process_cpu_pct_of_wall") or 0 for r in runs)
        notes.append(
            f"relay with {history:,} rows of history: the relay process was on CPU for "
            f"{busy[len(busy) // 2]}% of the drain (median), waiting on PostgreSQL or Kafka"
            " the rest"
        )
    for processes in (1, 2):
        runs = figures.get("consumer_apply", {}).get(f"processes_{processes}", {}).get("runs", [])
        if runs:
            busy = sorted(r["machine_busy_pct"] for r in runs)
            notes.append(
                f"consumer apply, {processes} process(es): machine CPU busy {busy[0]}-{busy[-1]}%"
                " during the runs"
            )
    for rate, row in figures.get("end_to_end", {}).get("per_rate", {}).items():
        hops = {k: v for k, v in (row.get("hops_p50_ms_median") or {}).items() if v is not None}
        if hops:
            worst = sorted(hops.items(), key=lambda kv: -kv[1])[:2]
            notes.append(
                f"end to end at {rate}/s: largest p50 hops "
                + ", ".join(f"{k} {v} ms" for k, v in worst)
                + f" of {round(sum(hops.values()), 1)} ms in all"
            )
    steps = [s for rep in figures.get("end_to_end", {}).get("steps", []) for s in rep]
    for s in steps[: len(result["plan"]["e2e_rates"])]:
        relay_stats = s.get("relay", {}).get("order-worker", {})
        if relay_stats.get("relay_runs_that_published"):
            notes.append(
                f"end to end at {s['rate']:g}/s: the order relay published "
                f"{relay_stats['events_published']} events in "
                f"{relay_stats['relay_runs_that_published']} relay runs "
                f"({relay_stats['events_per_run_avg']} events per run)"
            )
    return notes


if __name__ == "__main__":
    sys.exit(main())
