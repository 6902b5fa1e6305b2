"""Storefront settings shared by every environment.

The storefront has no database: sessions (with the cart and the user's API tokens) live in
Redis, and everything else comes from the services' APIs.
"""

from pathlib import Path
from typing import Any

import environ

from service_platform.settings.logging import logging_settings
from shared_events.kafka.config import KafkaSettings
from shared_events.topics import STOREFRONT_GROUP

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "storefront.shop",
    "storefront.console",
    # The public API's docs page (/api/docs/) and the Swagger UI files it loads.
    "storefront.apidocs",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "storefront.request_ids.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "storefront.urls"
ASGI_APPLICATION = "storefront.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "storefront.identity.signed_in_context",
                "storefront.shop.cart.cart_context",
            ],
        },
    },
]

STOREFRONT_REDIS_URL = env.str("STOREFRONT_REDIS_URL", default="redis://127.0.0.1:6379/6")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": STOREFRONT_REDIS_URL,
        "KEY_PREFIX": "storefront",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session holds a refresh token, so it lives no longer than one.
SESSION_COOKIE_AGE = env.int("JWT_REFRESH_HOURS", default=24) * 3600
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# The services' APIs, called server side with the signed-in user's bearer token.
ORDER_API_URL = env.str("ORDER_API_URL", default="http://127.0.0.1:8001")
INVENTORY_API_URL = env.str("INVENTORY_API_URL", default="http://127.0.0.1:8002")
API_TIMEOUT_SECONDS = env.float("STOREFRONT_API_TIMEOUT_SECONDS", default=5.0)

# Live order status: the consumer of order-events and the stream each order page reads.
KAFKA = KafkaSettings.from_env()
STOREFRONT_CONSUMER_GROUP = STOREFRONT_GROUP
ORDER_STREAM_MAXLEN = 100
ORDER_STREAM_TTL_SECONDS = 24 * 3600
SSE_HEARTBEAT_SECONDS = env.float("STOREFRONT_SSE_HEARTBEAT_SECONDS", default=15.0)
SSE_RETRY_MS = 1000

CATALOG_PAGE_SIZE = 12

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR.parent / ".run" / "static"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024


def storefront_logging(logging: dict[str, Any]) -> dict[str, Any]:
    """The services' logging, without a line per API call (the client logs failures)."""
    return {**logging, "loggers": {**logging["loggers"], "httpx": {"level": "WARNING"}}}


LOGGING = storefront_logging(
    logging_settings(
        level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="text")
    )
)
