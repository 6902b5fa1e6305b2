"""Summaries of repeated runs and latency percentiles."""

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values, inf propagates."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values_s: Sequence[float]) -> dict[str, float | int | None]:
    """p50 / p95 / p99 / max in milliseconds of latencies given in seconds."""

    def ms(v: float | None) -> float | None:
        if v is None:
            return None
        return round(v * 1000, 2) if math.isfinite(v) else math.inf

    return {
        "count": len(values_s),
        "p50_ms": ms(percentile(values_s, 50)),
        "p95_ms": ms(percentile(values_s, 95)),
        "p99_ms": ms(percentile(values_s, 99)),
        "max_ms": ms(max(values_s) if values_s else None),
    }


def spread(runs: Sequence[float | None], unit: str, digits: int = 1) -> dict[str, Any]:
    """min / median / max over repeated runs (None runs are kept in `runs`, not summarised)."""
    real = sorted(v for v in runs if v is not None)
    if not real:
        return {"unit": unit, "runs": list(runs), "min": None, "median": None, "max": None}
    mid = len(real) // 2
    median = real[mid] if len(real) % 2 else (real[mid - 1] + real[mid]) / 2

    def r(v: float) -> float:
        return round(v, digits) if math.isfinite(v) else v

    return {
        "unit": unit,
        "runs": [r(v) if v is not None else None for v in runs],
        "min": r(real[0]),
        "median": r(median),
        "max": r(real[-1]),
    }


def json_safe(value: Any) -> Any:
    """JSON has no infinity: write it as the string "inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
