"""What the production shape of Kafka costs: the relay, consumer and end-to-end figures on one
plaintext node and on three SASL_SSL nodes, alternating in one run.

    manage_scripts/bench --kafka-shapes [--rounds N] [--quick] [bench options...]

Each round runs `manage_scripts/bench --only relay,consumer,e2e` once per shape, each inside a
stack of its own shape (KAFKA_BROKERS, KAFKA_SECURITY; docs/production-kafka.md), so that both
shapes see the same machine at nearly the same time. Writes every run's report to
bench-reports/shapes/ and the comparison to bench-reports/shapes/comparison.{json,md}.
"""

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from manage_scripts.stack.config import ROOT


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    env: dict[str, str]


SHAPES = (
    Shape("1 node, PLAINTEXT", {"KAFKA_BROKERS": "1", "KAFKA_SECURITY": "PLAINTEXT"}),
    Shape(
        "3 nodes, SASL_SSL",
        {
            "KAFKA_BROKERS": "3",
            "KAFKA_SECURITY": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        },
    ),
)
# (label, path in a report's figures, higher is better)
FIGURES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("relay, events/s", ("relay", "no_history", "events_per_s", "median"), True),
    ("consumer apply, one process, events/s",
     ("consumer_apply", "processes_1", "events_per_s_per_process", "median"), True),
    ("end to end at 50/s, p50 ms", ("end_to_end", "per_rate", "50", "p50_ms", "median"), False),
    ("end to end at 50/s, p99 ms", ("end_to_end", "per_rate", "50", "p99_ms", "median"), False),
    ("highest rate with p99 < 250 ms, orders/s",
     ("end_to_end", "highest_rate_with_p99_under_250ms", "median"), True),
)  # fmt: skip
# Where an order's time goes at 50/s: the hops the end-to-end figure splits it into.
HOPS = ("end_to_end", "per_rate", "50", "hops_p50_ms_median")
OUTPUT = ROOT / "bench-reports" / "shapes"


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _slug(shape: Shape) -> str:
    return f"{shape.env['KAFKA_BROKERS']}n-{shape.env['KAFKA_SECURITY'].lower()}"


def run_bench(shape: Shape, round_no: int, bench_args: list[str]) -> Path:
    output = OUTPUT / f"{_slug(shape)}-round{round_no}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    env.pop("SAGA_BENCH_INSIDE_STACK", None)
    env |= shape.env
    command = [
        str(ROOT / "manage_scripts" / "bench"),
        "--only", "relay,consumer,e2e",
        "--output", str(output.relative_to(ROOT)),
        *bench_args,
    ]  # fmt: skip
    print(f"[shapes] round {round_no}: {shape.name}: {' '.join(command)}", flush=True)
    result = subprocess.run(command, env=env, cwd=ROOT, check=False)
    if result.returncode != 0:
        print(f"[shapes] the bench on {shape.name} exited with {result.returncode}", flush=True)
    return output.with_suffix(".json")


def compare(reports: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per figure: each shape's median over rounds, and the production shape's ratio."""
    base, production = (shape.name for shape in SHAPES)
    rows = []
    for label, path, higher_is_better in FIGURES:
        values = {
            shape: [v for r in runs if (v := _get(r.get("figures", {}), path)) is not None]
            for shape, runs in reports.items()
        }
        medians = {s: (statistics.median(v) if v else None) for s, v in values.items()}
        ratio = None
        if medians.get(base) and medians.get(production) is not None:
            ratio = round(medians[production] / medians[base], 2)
        rows.append(
            {
                "figure": label,
                "higher_is_better": higher_is_better,
                "per_round": values,
                "median": medians,
                "production_over_base": ratio,
            }
        )
    hops = {
        shape: [_get(r.get("figures", {}), HOPS) or {} for r in runs]
        for shape, runs in reports.items()
    }
    hop_medians = {
        shape: {
            hop: round(statistics.median(vals), 1)
            for hop in sorted({h for run in runs for h in run})
            if (vals := [run[hop] for run in runs if run.get(hop) is not None])
        }
        for shape, runs in hops.items()
    }
    return {"rows": rows, "hops_p50_ms_at_50": hop_medians}


def markdown(result: dict[str, Any]) -> str:
    base, production = (shape.name for shape in SHAPES)
    lines = [
        "# Kafka shapes: one plaintext node beside three SASL_SSL nodes",
        "",
        f"Run {result['started_at']}, {result['rounds']} round(s) alternating the shapes,"
        f" `{result['command']}`. Medians over rounds; each round's values in brackets.",
        "",
        f"| Figure | {base} | {production} | ratio (production / base) |",
        "| --- | --- | --- | --- |",
    ]
    for row in result["comparison"]["rows"]:
        cells = []
        for shape in (base, production):
            rounds = ", ".join(f"{v:g}" for v in row["per_round"].get(shape, []))
            median = row["median"].get(shape)
            cells.append("n/a" if median is None else f"{median:g} [{rounds}]")
        ratio = row["production_over_base"]
        lines.append(f"| {row['figure']} | {cells[0]} | {cells[1]} | {ratio if ratio else 'n/a'} |")
    hops = result["comparison"]["hops_p50_ms_at_50"]
    names = sorted({h for shape in hops.values() for h in shape})
    if names:
        lines += [
            "",
            "Where an order's time goes at 50 orders/s (p50 of each hop, ms):",
            "",
            f"| Hop | {base} | {production} |",
            "| --- | --- | --- |",
        ]
        for hop in names:
            values = [hops.get(shape, {}).get(hop) for shape in (base, production)]
            lines.append(
                f"| {hop} | " + " | ".join("n/a" if v is None else f"{v:g}" for v in values) + " |"
            )
    lines += ["", "Reports of each run: " + ", ".join(f"`{p}`" for p in result["reports"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage_scripts/bench --kafka-shapes")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both shapes (default 2)")
    args, bench_args = parser.parse_known_args(argv)
    if args.rounds < 1:
        print("--rounds must be at least 1", file=sys.stderr)
        return 2
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    reports: dict[str, list[dict[str, Any]]] = {shape.name: [] for shape in SHAPES}
    paths = []
    for round_no in range(1, args.rounds + 1):
        # Alternate which shape goes first, so neither always runs on a warmer machine.
        order = SHAPES if round_no % 2 else SHAPES[::-1]
        for shape in order:
            path = run_bench(shape, round_no, bench_args)
            if path.exists():
                reports[shape.name].append(json.loads(path.read_text()))
                paths.append(str(path.relative_to(ROOT)))
    result = {
        "started_at": started,
        "rounds": args.rounds,
        "command": "manage_scripts/bench --kafka-shapes " + " ".join(argv or sys.argv[1:]),
        "shapes": {shape.name: shape.env for shape in SHAPES},
        "reports": paths,
        "comparison": compare(reports),
    }
    (OUTPUT / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUTPUT / "comparison.md").write_text(markdown(result))
    print(markdown(result))
    return 0 if all(len(runs) == args.rounds for runs in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
