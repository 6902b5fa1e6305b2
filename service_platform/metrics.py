"""`/metrics`: Prometheus text exposition, for a scraper on the same host (loopback) or one
that sends `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 404, as if it were not
there."""

import functools
import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from shared_events.observability.metrics import metrics_text


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scraper_allowed(request):
        raise Http404
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


def scraper_allowed(request: HttpRequest) -> bool:
    """The metrics token, or a direct connection from this host (not through a proxy, whose
    own address would be loopback for every client)."""
    token: str = getattr(settings, "METRICS_TOKEN", "")
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
