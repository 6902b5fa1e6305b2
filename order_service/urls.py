from django.contrib import admin
from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/orders/", include("order_service.orders.urls")),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("service_platform.urls")),
]
