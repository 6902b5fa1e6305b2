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


METRICS_TOKEN_FILE = "/run/secrets/metrics_token"


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-native.yml"])
def test_scrape_configurations_are_valid(config, tmp_path):
    # promtool opens the token file: point it at one here (compose mounts the real one).
    token = tmp_path / "metrics_token"
    token.write_text("test-token")
    text = (PROMETHEUS / config).read_text().replace(METRICS_TOKEN_FILE, str(token))
    for name in ("alerts.yml", config):
        (tmp_path / name).write_text(text if name == config else (PROMETHEUS / name).read_text())
    result = _promtool("check", "config", str(tmp_path / config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_prometheus_scrapes_web_processes_with_the_metrics_token():
    import yaml

    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in ("order-service", "inventory-service"):
        assert jobs[name]["authorization"] == {"credentials_file": METRICS_TOKEN_FILE}


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
