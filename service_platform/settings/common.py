"""Django settings common to both services."""

from typing import Any

import environ

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_prometheus",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shared_events.django",
    "service_platform",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "service_platform.middleware.BodySizeLimitMiddleware",
    "service_platform.middleware.RequestLogContextMiddleware",
    "service_platform.middleware.TraceContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A request body larger than this is refused with 413 before it is read (the middleware
# above); Django's own limit covers form data and `request.body` too.
API_MAX_BODY_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Throttle rates by scope (service_platform.throttling), each THROTTLE_RATE_<SCOPE> to change it.
THROTTLE_RATES: dict[str, str] = {
    scope: env.str(f"THROTTLE_RATE_{scope.upper()}", default=rate)
    for scope, rate in {
        "credentials_ip": "30/min",  # log-ins and refreshes per address
        "credentials_user": "10/min",  # log-ins, registrations, refreshes per account
        "register_ip": "20/hour",
        "admin_login_ip": "20/min",
        "order_create": "120/min",  # per user
        "anon_read": "300/min",  # per address
    }.items()
}

# Bearer access tokens for clients (checked with the public key, no database read); sessions
# for the admin and the browsable API. Development adds HTTP Basic (see `dev_authentication`).
# The bearer scheme comes first so that a request without credentials is a 401.
API_AUTHENTICATION_CLASSES = [
    "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": API_AUTHENTICATION_CLASSES,
    # Each view opens up what anonymous clients may read; everything else needs a user.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "service_platform.pagination.BoundedPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Anonymous reads per address everywhere; views add their own (service_platform.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["service_platform.throttling.AnonReadThrottle"],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # The gateway appends the client's address to X-Forwarded-For: throttles per address
    # count that one, not the gateway's (0 for a service reached with no proxy in front).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=1),
    "EXCEPTION_HANDLER": "service_platform.api.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "service_platform.schema.SagaAutoSchema",
}

# OpenAPI schema at /api/schema/, Swagger UI at /api/docs/, both from static files
# (drf-spectacular-sidecar): no CDN. Each service sets its TITLE.
SPECTACULAR_SETTINGS = {
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "service_platform.schema.resource_links",
    ],
}

# Observability: W3C trace context through the outbox (off unless asked for), and the
# gauges /metrics computes on each scrape (each service adds its own).
TRACING_ENABLED = env.bool("TRACING_ENABLED", default=False)
SAGA_METRICS_COLLECTORS = [
    "shared_events.django.collectors.OutboxCollector",
    "shared_events.django.collectors.DeadLetterCollector",
    "shared_events.django.collectors.ConsumerLagCollector",
]
PROMETHEUS_EXPORT_MIGRATIONS = False
# A scraper off this host sends it as a bearer token (service_platform.metrics).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")


def shared_caches(*, redis_url: str, service: str) -> dict[str, Any]:
    """CACHES: the per-process default, and the throttle counters every worker shares."""
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"throttle:{service}",
            # A Redis that does not answer must not hold a request for long (see throttling).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
