from django.urls import path

from order_service.orders import apis

urlpatterns = [
    path("", apis.OrderListCreateApi.as_view(), name="order-list"),
    path("<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("<uuid:order_id>/ship/", apis.OrderShipApi.as_view(), name="order-ship"),
    path("<uuid:order_id>/timeline/", apis.OrderTimelineApi.as_view(), name="order-timeline"),
]
