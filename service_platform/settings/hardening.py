"""Production hardening shared by both services: no defaults for secrets, no DEBUG."""

from typing import Any, TypedDict

from django.core.exceptions import ImproperlyConfigured

from service_platform.settings.common import env
from service_platform.settings.logging import logging_settings
from shared_events.kafka.config import KafkaSettings

INSECURE_SECRET_PREFIXES = ("insecure", "django-insecure", "change-me")


class ProductionSettings(TypedDict):
    DEBUG: bool
    SECRET_KEY: str
    ALLOWED_HOSTS: list[str]
    SESSION_COOKIE_SECURE: bool
    CSRF_COOKIE_SECURE: bool
    SECURE_PROXY_SSL_HEADER: tuple[str, str]
    SECURE_SSL_REDIRECT: bool
    SECURE_REDIRECT_EXEMPT: list[str]
    SECURE_HSTS_SECONDS: int
    SECURE_HSTS_INCLUDE_SUBDOMAINS: bool
    SECURE_HSTS_PRELOAD: bool
    STATIC_ROOT: str
    LOGGING: dict[str, Any]
    KAFKA: KafkaSettings


def production_settings() -> ProductionSettings:
    """Return the settings production overrides; refuse to start when they are unsafe."""
    if env.bool("DJANGO_DEBUG", default=False):
        raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")
    secret_key = env.str("DJANGO_SECRET_KEY", default="")
    # Django's own bar (check --deploy, security.W009): 50+ characters, 5+ different ones.
    if (
        not secret_key
        or secret_key.startswith(INSECURE_SECRET_PREFIXES)
        or len(secret_key) < 50
        or len(set(secret_key)) < 5
    ):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of 50+ characters in production"
        )
    return {
        "DEBUG": False,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": env.list("DJANGO_ALLOWED_HOSTS"),
        "SESSION_COOKIE_SECURE": env.bool("DJANGO_SECURE_COOKIES", default=True),
        "CSRF_COOKIE_SECURE": env.bool("DJANGO_SECURE_COOKIES", default=True),
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        # HTTPS only, except for probes and scrapers that call a process directly.
        "SECURE_SSL_REDIRECT": env.bool("DJANGO_SSL_REDIRECT", default=True),
        "SECURE_REDIRECT_EXEMPT": [r"^health/", r"^metrics$"],
        "SECURE_HSTS_SECONDS": env.int("DJANGO_HSTS_SECONDS", default=31_536_000),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env.bool("DJANGO_HSTS_SUBDOMAINS", default=True),
        "SECURE_HSTS_PRELOAD": env.bool("DJANGO_HSTS_PRELOAD", default=True),
        "STATIC_ROOT": env.str("DJANGO_STATIC_ROOT", default="/srv/static"),
        # One JSON object per line, for the log shipper (LOG_FORMAT=text to read them by eye).
        "LOGGING": logging_settings(
            level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="json")
        ),
        # Three replicas with two in sync: a broker can fail without losing acknowledged events.
        "KAFKA": KafkaSettings.from_env(topic_replication_factor=3),
    }
