"""The JSON report and its markdown rendering, with the targets of the issue checked."""

import json
import math
from pathlib import Path
from typing import Any

from manage_scripts.benchmarks.stats import json_safe


def _get(data: dict[str, Any], *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue with the measured value (medians over repeats)."""
    rows = []

    def add(name: str, target: str, measured: Any, ok: bool | None, note: str = "") -> None:
        rows.append({"target": name, "goal": target, "measured": measured, "met": ok, "note": note})

    relay = figures.get("relay", {})
    rate = _get(relay, "no_history", "events_per_s", "median")
    add("Relay, one process", ">= 20,000 events/s", rate, None if rate is None else rate >= 20_000)
    change = relay.get("history_change_pct")
    history = _get(relay, "with_history", "history_rows")
    add(
        f"Relay with {history or 0:,} rows of history",
        "within +/-15% of no history",
        None if change is None else f"{change:+.1f}%",
        None if change is None else abs(change) <= 15,
        f"{_get(relay, 'with_history', 'events_per_s', 'median')} events/s with history",
    )
    e2e = figures.get("end_to_end", {})
    at50 = _get(e2e, "per_rate", "50") or {}
    p50, p99 = _get(at50, "p50_ms", "median"), _get(at50, "p99_ms", "median")
    add("End to end at 50 orders/s, p50", "<= 30 ms", p50, None if p50 is None else p50 <= 30)
    add("End to end at 50 orders/s, p99", "<= 100 ms", p99, None if p99 is None else p99 <= 100)
    highest = _get(e2e, "highest_rate_with_p99_under_250ms", "median")
    at200 = _get(e2e, "per_rate", "200", "confirmed_per_s", "median")
    add(
        "Confirmed orders/s sustained (p99 < 250 ms, all confirmed)",
        ">= 200 orders/s",
        highest,
        None if highest is None else highest >= 200,
        f"at 200/s offered: {at200} confirmed/s" if at200 is not None else "",
    )
    consumer = figures.get("consumer_apply", {})
    per_process = _get(consumer, "processes_1", "events_per_s_per_process", "median")
    add(
        "Consumer apply, one process",
        ">= 3,000 events/s",
        per_process,
        None if per_process is None else per_process >= 3_000,
        f"2 processes: {_get(consumer, 'processes_2', 'events_per_s_total', 'median')} "
        "events/s in total"
        if consumer.get("processes_2")
        else "",
    )
    flash = figures.get("flash_sale", {})
    worst = _get(flash, "settle_s", "max")
    add(
        "Flash sale settles (worst run)",
        "< 5 s",
        worst,
        None if worst is None else worst < 5,
        f"median {_get(flash, 'settle_s', 'median')} s" if worst is not None else "",
    )
    exact = flash.get("all_runs_exactly_units_confirmed")
    add(
        "Flash sale, exactly 50 confirmed (every run)",
        "50",
        _get(flash, "confirmed", "runs"),
        exact,
    )
    return rows


def write(report: dict[str, Any], json_path: Path, md_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(json_safe(report), indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(report))


# --- markdown -----------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "inf"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _spread(s: Any) -> str:
    if not isinstance(s, dict) or "median" not in s:
        return _fmt(s)
    return f"{_fmt(s['min'])} / **{_fmt(s['median'])}** / {_fmt(s['max'])}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _profile_md(title: str, profile: dict[str, Any]) -> str:
    if not profile:
        return ""
    if profile.get("error") and not profile.get("samples"):
        return f"**{title}**: no profile ({profile['error']})\n\n"
    out = [f"**{title}** — {profile.get('mode', '')}; {profile.get('samples', 0):,} samples"]
    if "run_events_per_s_under_profiler" in profile:
        out[0] += f"; {profile['run_events_per_s_under_profiler']} events/s under the profiler"
    out.append("")
    if len(profile.get("programs", [])) > 1:
        out.append(
            "Share of samples per program: "
            + ", ".join(f"{p['frame']} {p['pct']}%" for p in profile["programs"][:10])
        )
        out.append("")
    out.append(
        _table(
            ["top self frames", "%"],
            [[f"`{f['frame']}`", f["pct"]] for f in profile.get("top_self", [])[:10]],
        )
    )
    out.append(
        _table(
            ["deepest project line (the time is under it)", "source", "%"],
            [
                [f"`{f['frame']}`", f"`{f.get('source', '')}`", f["pct"]]
                for f in profile.get("top_project_lines", [])[:10]
            ],
        )
    )
    per_program = profile.get("per_program_top_project_lines") or {}
    if len(per_program) > 1:
        out.append("Per program, deepest project lines / top self frames:\n")
        selfs = profile.get("per_program_top_self") or {}
        for program, frames in list(per_program.items())[:7]:
            out.append(
                f"- **{program}**: "
                + "; ".join(f"`{f['frame']}` {f['pct_of_program']}%" for f in frames[:5])
                + " — self: "
                + "; ".join(
                    f"`{f['frame']}` {f['pct_of_program']}%" for f in selfs.get(program, [])[:3]
                )
            )
        out.append("")
    return "\n".join(out) + "\n"


def markdown(report: dict[str, Any]) -> str:
    figures = report.get("figures", {})
    out = [f"# Benchmark report ({report.get('mode')})", ""]
    out.append(
        f"Started {report.get('started_at')}, took {report.get('duration_s')} s. "
        f"Command: `{report.get('command')}`. Every figure is **min / median / max** over "
        f"the repeated runs (runs listed in latest.json)."
    )
    out.append("")
    for note in report.get("notes", []):
        out.append(f"- {note}")
    out.append("")

    out.append("## Targets\n")
    out.append(
        _table(
            ["target", "goal", "measured (median)", "met", "note"],
            [
                [
                    t["target"],
                    t["goal"],
                    _fmt(t["measured"]),
                    {True: "yes", False: "**no**", None: "not run"}[t["met"]],
                    t["note"],
                ]
                for t in report.get("targets", [])
            ],
        )
    )

    auth = figures.get("authentication")
    if auth:
        out.append("## Authentication: the cost of one request's credentials\n")
        out.append(
            f"{auth['description']}; {auth['requests_per_round']:,} requests per round"
            f" ({auth['basic_calls_per_round']} for Basic), rounds alternating.\n"
        )
        names = {
            "jwt_rs256": "bearer access token (RS256 check, no database)",
            "token_lookup": "the token lookup it replaced (one join)",
            "basic_pbkdf2": "HTTP Basic (PBKDF2), development only",
        }
        out.append(
            _table(
                ["scheme", "µs per request"],
                [[names.get(k, k), _spread(v)] for k, v in auth["per_request"].items()],
            )
        )
    raw = figures.get("raw_kafka")
    if raw:
        out.append("## 1. Raw Kafka baseline (the ceiling)\n")
        out.append(f"{raw['description']}; {raw['messages_per_run']:,} messages per run.\n")
        out.append(
            _table(
                ["measure", "events/s"],
                [
                    ["producer, flush once", _spread(raw["producer_flush_once"])],
                    ["producer, flush every 1,000", _spread(raw["producer_flush_every_1000"])],
                    ["consumer (after the first batch)", _spread(raw["consumer"])],
                    ["consumer incl. group join", _spread(raw["consumer_including_group_join"])],
                    ["decode_event only (CPU)", _spread(raw["decode_event_only"])],
                ],
            )
        )
        out.append(f"Producer config: `{json.dumps(raw['producer_config'])}`\n")

    relay = figures.get("relay")
    if relay:
        out.append("## 2. Relay drain\n")
        out.append(relay["description"] + ".\n")
        out.append(
            _table(
                ["history rows", "events/s", "ratio to raw producer"],
                [
                    [
                        _fmt(relay[k]["history_rows"]),
                        _spread(relay[k]["events_per_s"]),
                        _spread(relay[k]["ratio_to_raw_producer"]),
                    ]
                    for k in ("no_history", "with_history")
                ],
            )
        )
        out.append(
            f"Change with history: {_fmt(relay.get('history_change_pct'))} %. "
            f"Every run drained completely and the topic held every row: "
            f"{relay.get('all_runs_verified')}.\n"
        )

    consumer = figures.get("consumer_apply")
    if consumer:
        out.append("## 3. Consumer apply\n")
        out.append(consumer["description"] + ".\n")
        rows = []
        for n in (1, 2):
            c = consumer.get(f"processes_{n}")
            if c:
                rows.append(
                    [
                        n,
                        _spread(c["events_per_s_total"]),
                        _spread(c["events_per_s_per_process"]),
                        _spread(c["consumer_cpu_ms_per_event"]),
                        _spread(c["infra_cpu_ms_per_event"]),
                        c["all_verified"],
                        c.get("consumer_crashes", 0),
                    ]
                )
        out.append(
            _table(
                [
                    "processes",
                    "events/s total",
                    "events/s per process",
                    "consumer CPU ms/event",
                    "PostgreSQL+Kafka+Redis CPU ms/event",
                    "verified",
                    "consumer crashes (restarted)",
                ],
                rows,
            )
        )
        inproc = consumer.get("in_process_event_apply") or {}
        if "events_per_s_batched" in inproc:
            out.append(
                f"Without Kafka ({inproc['description']}):"
                f" **{inproc['events_per_s_batched']}** events/s in batches"
                f" ({inproc['queries_per_batch_of_200']} SQL statements a batch of 200),"
                f" {inproc['events_per_s_one_by_one']} events/s one by one"
                f" ({inproc['queries_per_event_one_by_one']} statements an event).\n"
            )
            out.append("One batch:\n")
            out.append("```\n" + "\n".join(inproc["queries_of_one_batch"]) + "\n```\n")
            out.append("One event on its own:\n")
            out.append("```\n" + "\n".join(inproc["queries_of_one_event"]) + "\n```\n")
        elif inproc.get("error"):
            out.append(f"In-process apply failed: `{inproc['error'][-300:]}`\n")

    e2e = figures.get("end_to_end")
    if e2e:
        out.append("## 4. End to end over HTTP (open loop)\n")
        out.append(
            f"{e2e['description']}; {e2e['duration_s']} s per rate, {e2e['repeats']} repeat(s).\n"
        )
        out.append(
            _table(
                [
                    "offered/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "POST p50 ms",
                    "confirmed/s",
                    "stack CPU ms/order",
                    "infra CPU ms/order",
                    "machine busy %",
                    "other users' load (cores)",
                    "new PG sessions / order",
                    "PG commits / order",
                ],
                [
                    [
                        r["offered_per_s"],
                        _spread(r["p50_ms"]),
                        _spread(r["p95_ms"]),
                        _spread(r["p99_ms"]),
                        _spread(r["max_ms"]),
                        _spread(r["post_p50_ms"]),
                        _spread(r["confirmed_per_s"]),
                        _spread(r["stack_cpu_ms_per_order"]),
                        _spread(r["infra_cpu_ms_per_order"]),
                        _spread(r["machine_busy_pct"]),
                        _spread(r.get("other_load_cores")),
                        _fmt(_get(r, "postgres_sessions_per_order", "median")),
                        _fmt(_get(r, "postgres_commits_per_order", "median")),
                    ]
                    for r in e2e["per_rate"].values()
                ],
            )
        )
        hops = e2e.get("hops") or {}
        if hops:
            out.append(
                "Where the time goes, p50 per hop in ms (median over repeats), from the"
                " timestamps the saga writes (orders confirmed in the step):\n"
            )
            out.append(
                _table(
                    ["offered/s", *hops],
                    [
                        [
                            r["offered_per_s"],
                            *[_fmt((r.get("hops_p50_ms_median") or {}).get(h)) for h in hops],
                        ]
                        for r in e2e["per_rate"].values()
                    ],
                )
            )
            out.append("\n".join(f"- `{h}`: {text}" for h, text in hops.items()) + "\n")
        programs: list[str] = []
        for r in e2e["per_rate"].values():
            for program in r.get("stack_cpu_ms_per_order_by_program_median", {}):
                if program not in programs:
                    programs.append(program)
        if programs:
            out.append("Stack CPU ms per confirmed order, by program (median over repeats):\n")
            out.append(
                _table(
                    ["offered/s", *programs],
                    [
                        [
                            r["offered_per_s"],
                            *[
                                _fmt(r["stack_cpu_ms_per_order_by_program_median"].get(p))
                                for p in programs
                            ],
                        ]
                        for r in e2e["per_rate"].values()
                    ],
                )
            )
        out.append(
            "Highest offered rate with every order confirmed and p99 < 250 ms: "
            f"{_spread(e2e['highest_rate_with_p99_under_250ms'])} orders/s.\n"
        )
        out.append(
            "CPU per order = utime+stime of every process under the bench stack's supervisord "
            "(web, Celery workers and beats, consumers) from the step's start to the end of "
            "its drain, over the orders confirmed in that window; "
            "infra = every postgres, java (Kafka) and redis-server process on the machine "
            "(shared servers: other users' load counts there too).\n"
        )

    flash = figures.get("flash_sale")
    if flash:
        out.append("## 5. Flash sale\n")
        out.append(flash["description"] + ".\n")
        out.append(
            _table(
                ["measure", "min / median / max"],
                [
                    ["time to settle (s)", _spread(flash["settle_s"])],
                    ["time until every POST answered (s)", _spread(flash["post_phase_s"])],
                    ["confirmed", _spread(flash["confirmed"])],
                    [
                        "exactly 50 confirmed, stock 0/50 (all runs)",
                        flash["all_runs_exactly_units_confirmed"],
                    ],
                ],
            )
        )

    overhead = figures.get("gateway_overhead")
    if overhead:
        out.append("## 6. The gateway's overhead\n")
        out.append(overhead["description"] + ".\n")
        rows = []
        for name, measured in overhead["per_request"].items():
            for route in ("direct", "gateway"):
                m = measured[route]
                rows.append([name, route, m["count"], _fmt(m["p50_ms"]), _fmt(m["p99_ms"])])
            rows.append(
                [
                    name,
                    "**overhead**",
                    "",
                    _fmt(measured["overhead_p50_ms"]),
                    _fmt(measured["overhead_p99_ms"]),
                ]
            )
        out.append(_table(["request", "route", "count", "p50 ms", "p99 ms"], rows))
        if overhead["failures"]:
            out.append(f"Failed requests: {overhead['failures']}\n")

    push = figures.get("push_latency")
    if push:
        out.append("## 7. Live order status: from the Kafka event to the browser's stream\n")
        out.append(
            f"{push['orders']} orders at {push['rate_per_s']:g}/s, each followed on its"
            " storefront stream as the order page's EventSource follows it; the latency runs"
            " from the `cancelling` event's Kafka timestamp to its arrival on the stream.\n"
        )
        latency = push["push_latency"]
        out.append(
            _table(
                ["pushed", "failed", "p50 ms", "p99 ms", "max ms"],
                [
                    [
                        push["pushed"],
                        push["failed"],
                        _fmt(latency.get("p50_ms")),
                        _fmt(latency.get("p99_ms")),
                        _fmt(latency.get("max_ms")),
                    ]
                ],
            )
        )
        if push["first_failure"]:
            out.append(f"First failure: `{push['first_failure']}`\n")

    out.append("## Bottlenecks (profiles)\n")
    for line in report.get("bottleneck_notes", []):
        out.append(f"- {line}")
    out.append("")
    for title, profile in report.get("profiles", {}).items():
        out.append(_profile_md(title, profile))

    errors = report.get("errors", {})
    if errors:
        out.append("## Errors\n")
        for name, text in errors.items():
            out.append(f"**{name}**\n\n```\n{text[-3000:]}\n```\n")

    out.append("## Machine, versions, settings\n")
    out.append("```json\n" + json.dumps(json_safe(report.get("machine", {})), indent=2) + "\n```\n")
    out.append(
        "```json\n" + json.dumps(json_safe(report.get("versions", {})), indent=2) + "\n```\n"
    )
    out.append("```json\n" + json.dumps(json_safe(report.get("code", {})), indent=2) + "\n```\n")
    out.append("```json\n" + json.dumps(json_safe(report.get("plan", {})), indent=2) + "\n```\n")
    return "\n".join(out)
