"""`/metrics`: Prometheus text exposition, open like the health checks (keep it off the
public internet with the proxy, as for /health)."""

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from shared_events.observability.metrics import metrics_text


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_text(scrape_collectors()), content_type=CONTENT_TYPE_LATEST)


@functools.cache
def scrape_collectors() -> list[Collector]:
    """One instance of each collector of SAGA_METRICS_COLLECTORS per process (their caches
    live across scrapes)."""
    collectors = [import_string(path)() for path in settings.SAGA_METRICS_COLLECTORS]
    cache_seconds = getattr(settings, "SAGA_METRICS_CACHE_SECONDS", None)
    for collector in collectors:
        if cache_seconds is not None:
            collector.ttl = cache_seconds
    return collectors
