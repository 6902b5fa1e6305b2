"""`/metrics`: Prometheus text exposition, open like the health checks (keep it off the
public internet with the proxy, as for /health)."""

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from shared_events.observability.collectors import scrape_collectors
from shared_events.observability.metrics import metrics_text


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_text(scrape_collectors()), content_type=CONTENT_TYPE_LATEST)
