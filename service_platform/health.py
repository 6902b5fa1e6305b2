"""Liveness and readiness: `/health/live` answers while the process runs, `/health/ready`
checks PostgreSQL, Redis (Celery's broker) and Kafka and answers 503 when one is down.

The gateway probes every instance's readiness every second, so a probe must cost little: it
runs in the worker's own thread and reuses the process's connections (the request's database
connection, one Redis client and one Kafka admin client per process). django-health-check's
views are asynchronous, and under the services' WSGI workers each of its probes started an
event loop and threads of its own and opened a new Redis connection.
"""

import functools
import os
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import View

from shared_events.django.conf import events_config
from shared_events.kafka.admin import broker_answers

KAFKA_TIMEOUT_S = 3.0
REDIS_TIMEOUT_S = 2.0


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@functools.lru_cache(maxsize=4)
def celery_broker(url: str) -> redis.Redis:
    """One client per broker URL for the process; its pool keeps the connection open. The
    name tells the probe's connection apart in Redis's CLIENT LIST."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        socket_timeout=REDIS_TIMEOUT_S,
        client_name=f"readiness-probe-{os.getpid()}",
    )


def redis_check() -> None:
    celery_broker(settings.CELERY_BROKER_URL).ping()


def kafka_check() -> None:
    """A broker of the configured cluster answers a metadata request (with the service's
    own client settings: SASL, TLS)."""
    if not broker_answers(events_config().kafka, timeout=KAFKA_TIMEOUT_S):
        raise ConnectionError(f"no Kafka broker answered within {KAFKA_TIMEOUT_S:g}s")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "redis": redis_check,
    "kafka": kafka_check,
}


class ReadinessView(View):
    """200 when every dependency answers; 503 (not 500) while one does not: load balancers
    and orchestrators read it as "send no traffic", not as a crash."""

    def get(self, request: HttpRequest) -> JsonResponse:
        checks = {}
        for name, check in READINESS_CHECKS.items():
            try:
                check()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - a probe reports what failed, never raises
                checks[name] = f"{type(exc).__name__}: {exc}"
        ready = all(result == "ok" for result in checks.values())
        response = JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
        )
        add_never_cache_headers(response)
        return response


class LivenessView(View):
    """The process answers HTTP; says nothing about its dependencies."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"status": "ok"})
