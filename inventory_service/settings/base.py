"""Inventory Service settings shared by every environment."""

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
from shared_events.topics import INVENTORY_EVENTS, INVENTORY_SERVICE, ORDER_EVENTS

INSTALLED_APPS = [*INSTALLED_APPS, "inventory_service.stock"]
ROOT_URLCONF = "inventory_service.urls"
WSGI_APPLICATION = "inventory_service.wsgi.application"

DATABASES = {
    "default": env.db(
        "INVENTORY_DATABASE_URL", default="postgres://saga:saga@127.0.0.1:5432/inventory_service"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# Reused connections are checked first, so a database restart costs no failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

KAFKA = KafkaSettings.from_env()
SHARED_EVENTS = {
    "SERVICE_NAME": INVENTORY_SERVICE,
    "PUBLISH_TOPIC": INVENTORY_EVENTS,
    "CONSUME_TOPICS": [ORDER_EVENTS],
    "CONSUMER_GROUP": "inventory-service",
    # Where replayed dead letters of the consumer group go; never a topic a message names.
    "HANDLERS": "inventory_service.stock.handlers.HANDLERS",
    # Longer than Kafka keeps messages and committed offsets (checked at start-up).
    "RETENTION_DAYS": env.int("EVENTS_RETENTION_DAYS", default=9),
    "OUTBOX_MAX_ATTEMPTS": env.int("OUTBOX_MAX_ATTEMPTS", default=5),
}

CELERY_BROKER_URL = env.str("INVENTORY_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/1")
CACHES = shared_caches(
    redis_url=env.str("INVENTORY_THROTTLE_REDIS_URL", default=CELERY_BROKER_URL),
    service="inventory",
)
CELERY_BEAT_SCHEDULE = celery_beat_schedule()
LOGGING = logging_settings(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="text")
)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Inventory Service API"}
SAGA_METRICS_COLLECTORS = [
    *SAGA_METRICS_COLLECTORS,
    "inventory_service.stock.metrics.StockCollector",
]
