from django.contrib import admin
from django.urls import include, path

from service_platform.throttling import admin_login_throttled

handler404 = "service_platform.api.not_found"
admin.site.login = admin_login_throttled(admin.site.login)  # type: ignore[method-assign]

# No token endpoints: the order service issues access tokens; this one only checks them.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/products/", include("inventory_service.stock.urls")),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("service_platform.urls")),
]
