from django.urls import path

from order_service.accounts import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="auth-register"),
    path("token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
]
