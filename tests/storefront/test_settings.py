"""Production settings refuse to start rather than fall back to a development default."""

import os
import secrets
import subprocess
import sys

import pytest

from manage_scripts.stack.config import ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "storefront.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "ORDER_API_URL": "http://order:8000",
    "INVENTORY_API_URL": "http://inventory:8000",
    "STOREFRONT_REDIS_URL": "redis://redis:6379/4",
}


def settings_load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STOREFRONT_"))}
    clean = {k: v for k, v in clean.items() if k not in ("ORDER_API_URL", "INVENTORY_API_URL")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_everything_set():
    result = settings_load(PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "ORDER_API_URL", "INVENTORY_API_URL", "STOREFRONT_REDIS_URL"]
)
def test_production_refuses_to_start_without(missing):
    result = settings_load({k: v for k, v in PRODUCTION.items() if k != missing})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
