"""The Prometheus configuration and alert rules in compose/ are valid, and the alerts fire
when they should (promtool's rule unit tests)."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "compose" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    # Not a skip: manage_scripts/test installs it, so its absence is a broken set-up.
    if shutil.which("promtool") is None:
        pytest.fail("promtool not installed: apt-get install prometheus (manage_scripts/test does)")
    return subprocess.run(
        ["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )


def test_alert_rules_are_valid():
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_on_lag_delay_errors_outbox_age_and_dead_letters():
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-native.yml"])
def test_scrape_configurations_are_valid(config):
    result = _promtool("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_named_in_the_issue_exists():
    import yaml

    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "SagaConsumerLagHigh",
        "SagaProcessingDelayHigh",
        "SagaConsumeErrorRateHigh",
        "SagaOutboxStale",
        "SagaDeadLettersGrowing",
    } <= names
