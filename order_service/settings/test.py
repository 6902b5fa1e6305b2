import dataclasses
import uuid

from order_service.settings.base import *  # noqa: F403
from order_service.settings.base import KAFKA

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
# Each test run gets its own topics and consumer groups on the shared broker.
KAFKA = dataclasses.replace(KAFKA, namespace=KAFKA.namespace or f"test-{uuid.uuid4().hex[:8]}.")
# Scrape-time gauges are recomputed on every scrape, so tests see what they just did.
SAGA_METRICS_CACHE_SECONDS = 0
