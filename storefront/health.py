"""Liveness and readiness of a storefront instance (the gateway checks `/health/ready`)."""

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Ready while Redis answers: sessions, carts and the order streams live there."""
    try:
        cache.get("health-probe")
    except RedisError:
        return JsonResponse({"status": "unavailable", "redis": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
