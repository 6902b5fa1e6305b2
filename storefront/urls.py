from django.urls import include, path

from storefront import health
from storefront.apidocs.views import public_api_docs, public_api_schema

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("api/schema/", public_api_schema, name="public-api-schema"),
    path("api/docs/", public_api_docs, name="public-api-docs"),
    path("staff/", include("storefront.console.urls")),
    path("", include("storefront.shop.urls")),
]
