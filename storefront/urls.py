from django.urls import include, path

from storefront import health

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("staff/", include("storefront.console.urls")),
    path("", include("storefront.shop.urls")),
]
