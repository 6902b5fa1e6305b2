"""Liveness and readiness: `/health/live` answers while the process runs, `/health/ready`
checks PostgreSQL, Redis (Celery's broker) and Kafka and answers 503 when one is down."""

import dataclasses
import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from health_check import Database, HealthCheck
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from shared_events.django.conf import events_config
from shared_events.kafka.admin import broker_answers


@dataclasses.dataclass
class KafkaBroker(HealthCheck):
    """A broker of the configured cluster answers a metadata request (with the service's
    own client settings: SASL, TLS)."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    async def run(self) -> None:
        kafka = events_config().kafka
        seconds = self.timeout.total_seconds()
        if not await sync_to_async(broker_answers, thread_sensitive=False)(kafka, timeout=seconds):
            raise ServiceUnavailable(f"no Kafka broker answered within {seconds:g}s")


def celery_broker_client() -> RedisClient:
    return RedisClient.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2
    )


class ReadinessView(HealthCheckView):
    """503 (not django-health-check's 500) while a dependency is down: load balancers and
    orchestrators read it as "send no traffic", not as a crash."""

    checks = (
        (Database, {"alias": "default"}),
        (Redis, {"client_factory": celery_broker_client}),
        KafkaBroker,
    )

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


class LivenessView(View):
    """The process answers HTTP; says nothing about its dependencies."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"status": "ok"})
