"""Operations endpoints both services serve: health, metrics, the staff ops API, OpenAPI
schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from service_platform.health import LivenessView, ReadinessView
from service_platform.metrics import metrics_view
from service_platform.ops import DeadLetterListApi, DeadLetterReplayApi, OpsStatusApi

urlpatterns = [
    path("health/live", LivenessView.as_view(), name="health-live"),
    path("health/ready", ReadinessView.as_view(), name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("api/ops/status/", OpsStatusApi.as_view(), name="ops-status"),
    path("api/ops/dead-letters/", DeadLetterListApi.as_view(), name="ops-dead-letters"),
    path(
        "api/ops/dead-letters/<int:letter_id>/replay/",
        DeadLetterReplayApi.as_view(),
        name="ops-dead-letter-replay",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
