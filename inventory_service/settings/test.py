import dataclasses
import uuid

from inventory_service.settings.base import *  # noqa: F403
from inventory_service.settings.base import CACHES, KAFKA, REST_FRAMEWORK
from service_platform.settings.common import THROTTLE_RATES
from service_platform.settings.identity import simple_jwt_settings

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
# Each test run gets its own topics and consumer groups on the shared broker.
KAFKA = dataclasses.replace(KAFKA, namespace=KAFKA.namespace or f"test-{uuid.uuid4().hex[:8]}.")
# Scrape-time gauges are recomputed on every scrape, so tests see what they just did.
SAGA_METRICS_CACHE_SECONDS = 0
SIMPLE_JWT = simple_jwt_settings(issues_tokens=False)
# Throttle counters of this run only; rates no suite reaches (throttle tests set their own).
CACHES = {
    **CACHES,
    "throttle": {**CACHES["throttle"], "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"},
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(THROTTLE_RATES, "100000/min"),
}
