"""Production settings refuse unsafe configuration at start-up."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from service_platform.signing_keys import key_pair_generate, public_key_of

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = secrets.token_urlsafe(50)
SIGNING_KEY = key_pair_generate()
SERVICE_KEYS = {
    "order_service": {"JWT_PRIVATE_KEY": SIGNING_KEY},
    "inventory_service": {"JWT_PUBLIC_KEY": public_key_of(SIGNING_KEY)},
}


def _check(env: dict[str, str], service: str = "order_service") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, f"{service}/manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": f"{service}.settings.production",
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            **env,
        },
    )


@pytest.mark.parametrize("service", ["order_service", "inventory_service"])
@pytest.mark.parametrize(
    "env, reason",
    [
        ({"DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
        ({}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "insecure-development-key"}, "DJANGO_SECRET_KEY must be set"),
    ],
)
def test_production_refuses_debug_or_a_default_secret(service, env, reason):
    result = _check(env, service)
    assert result.returncode != 0
    assert reason in result.stderr


def test_production_starts_with_a_real_secret_and_replicates_topics_three_times():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.KAFKA.topic_replication_factor)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "order_service.settings.production",
            "DJANGO_SECRET_KEY": GOOD_KEY,
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            "PYTHONPATH": str(ROOT),
            **SERVICE_KEYS["order_service"],
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "3"]


@pytest.mark.parametrize(
    "service, reason",
    [
        ("order_service", "JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE) must be set"),
        ("inventory_service", "JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) must be set"),
    ],
)
def test_production_refuses_to_start_without_its_token_key(service, reason):
    result = _check({"DJANGO_SECRET_KEY": GOOD_KEY}, service)
    assert result.returncode != 0
    assert reason in result.stderr
    assert _check({"DJANGO_SECRET_KEY": GOOD_KEY, **SERVICE_KEYS[service]}, service).returncode == 0


@pytest.mark.parametrize("service", ["order_service", "inventory_service"])
@pytest.mark.parametrize("entry", ["wsgi", "asgi", "celery"])
def test_servers_and_workers_default_to_production_and_refuse_to_start_unconfigured(service, entry):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    load = f"import {service}.{entry}; import django.conf as c; print(c.settings.DEBUG)"
    unconfigured = subprocess.run(
        [sys.executable, "-c", load], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert unconfigured.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in unconfigured.stderr
    configured = subprocess.run(
        [sys.executable, "-c", load + "; print(c.settings.SETTINGS_MODULE)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **env,
            "DJANGO_SECRET_KEY": GOOD_KEY,
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            **SERVICE_KEYS[service],
        },
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.split() == ["False", f"{service}.settings.production"]


@pytest.mark.parametrize("service", ["order_service", "inventory_service"])
def test_check_deploy_reports_nothing_under_the_production_settings(service):
    result = subprocess.run(
        [sys.executable, f"{service}/manage.py", "check", "--deploy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": f"{service}.settings.production",
            "DJANGO_SECRET_KEY": GOOD_KEY,
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            **SERVICE_KEYS[service],
        },
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stderr
