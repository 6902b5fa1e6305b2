"""Throttle counters of one test only."""

import contextlib
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.test import override_settings

from service_platform.throttling import THROTTLE_CACHE


@contextlib.contextmanager
def fresh_throttle_counters() -> Iterator[None]:
    """A key prefix of its own (never `cache.clear()`: on Redis it empties the database)."""
    cache = {**settings.CACHES[THROTTLE_CACHE], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    with override_settings(CACHES={**settings.CACHES, THROTTLE_CACHE: cache}):
        yield
