"""Order Service settings shared by every environment."""

from service_platform.settings.celery import *  # noqa: F403
from service_platform.settings.celery import celery_beat_schedule
from service_platform.settings.common import *  # noqa: F403
from service_platform.settings.common import (
    INSTALLED_APPS,
    SAGA_METRICS_COLLECTORS,
    SPECTACULAR_SETTINGS,
    env,
    shared_caches,
)
from service_platform.settings.logging import logging_settings
from shared_events.kafka.config import KafkaSettings
from shared_events.topics import INVENTORY_EVENTS, ORDER_EVENTS, ORDER_SERVICE

INSTALLED_APPS = [*INSTALLED_APPS, "order_service.orders"]
ROOT_URLCONF = "order_service.urls"
WSGI_APPLICATION = "order_service.wsgi.application"

DATABASES = {
    "default": env.db(
        "ORDER_DATABASE_URL", default="postgres://saga:saga@127.0.0.1:5432/order_service"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# Reused connections are checked first, so a database restart costs no failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

KAFKA = KafkaSettings.from_env()
SHARED_EVENTS = {
    "SERVICE_NAME": ORDER_SERVICE,
    "PUBLISH_TOPIC": ORDER_EVENTS,
    "CONSUME_TOPICS": [INVENTORY_EVENTS],
    "CONSUMER_GROUP": "order-service",
    # Where replayed dead letters of the consumer group go; never a topic a message names.
    "HANDLERS": "order_service.orders.handlers.HANDLERS",
    # Longer than Kafka keeps messages and committed offsets (checked at start-up).
    "RETENTION_DAYS": env.int("EVENTS_RETENTION_DAYS", default=9),
    "OUTBOX_MAX_ATTEMPTS": env.int("OUTBOX_MAX_ATTEMPTS", default=5),
}

# A saga step with no answer after this long is sent again, then the order is cancelled.
ORDER_SAGA_TIMEOUT_SECONDS = env.int("ORDER_SAGA_TIMEOUT_SECONDS", default=60)
ORDER_SAGA_MAX_RETRIES = env.int("ORDER_SAGA_MAX_RETRIES", default=3)
_settle_every = max(ORDER_SAGA_TIMEOUT_SECONDS / 4, 1.0)

CELERY_BROKER_URL = env.str("ORDER_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CACHES = shared_caches(
    redis_url=env.str("ORDER_THROTTLE_REDIS_URL", default=CELERY_BROKER_URL), service="order"
)
CELERY_BEAT_SCHEDULE = celery_beat_schedule(
    extra={
        "settle-stuck-orders": {
            "task": "orders.settle_stuck_orders",
            "schedule": _settle_every,
            "options": {"expires": _settle_every},
        },
    },
)
LOGGING = logging_settings(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="text")
)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Order Service API"}
SAGA_METRICS_COLLECTORS = [
    *SAGA_METRICS_COLLECTORS,
    "order_service.orders.metrics.OrderStatusCollector",
]
