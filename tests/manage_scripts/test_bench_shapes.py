"""The Kafka shapes comparison: medians over rounds, and the production shape's ratio."""

from manage_scripts.benchmarks.shapes import SHAPES, compare, markdown

BASE, PRODUCTION = (shape.name for shape in SHAPES)


def _report(relay: float, p99: float, hops: dict[str, float]) -> dict:
    return {
        "figures": {
            "relay": {"no_history": {"events_per_s": {"median": relay}}},
            "end_to_end": {
                "per_rate": {"50": {"p99_ms": {"median": p99}, "hops_p50_ms_median": hops}}
            },
        }
    }


def test_each_figure_compares_the_medians_over_rounds():
    reports = {
        BASE: [_report(1000, 40, {"relay": 2}), _report(1200, 50, {"relay": 4})],
        PRODUCTION: [_report(500, 80, {"relay": 6}), _report(700, 120, {"relay": 8})],
    }

    result = compare(reports)

    rows = {row["figure"]: row for row in result["rows"]}
    relay = rows["relay, events/s"]
    assert relay["median"] == {BASE: 1100, PRODUCTION: 600}
    assert relay["production_over_base"] == round(600 / 1100, 2)
    assert rows["end to end at 50/s, p99 ms"]["production_over_base"] == 2.22
    assert rows["consumer apply, one process, events/s"]["median"] == {BASE: None, PRODUCTION: None}
    assert result["hops_p50_ms_at_50"] == {BASE: {"relay": 3.0}, PRODUCTION: {"relay": 7.0}}


def test_the_markdown_names_every_round_and_a_missing_figure():
    reports = {BASE: [_report(1000, 40, {})], PRODUCTION: [_report(500, 80, {})]}
    text = markdown(
        {
            "started_at": "now",
            "rounds": 1,
            "command": "manage_scripts/bench --kafka-shapes",
            "reports": ["a.json"],
            "comparison": compare(reports),
        }
    )
    assert "| relay, events/s | 1000 [1000] | 500 [500] | 0.5 |" in text
    assert "| consumer apply, one process, events/s | n/a | n/a | n/a |" in text
