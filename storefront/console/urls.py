from django.urls import path

from storefront.console import views

app_name = "console"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("status.json", views.status_json, name="status-json"),
    path("stock/", views.stock, name="stock"),
    path("stock/<str:sku>/restock/", views.restock, name="restock"),
    path("orders/", views.orders, name="orders"),
    path("orders/find/", views.order_find, name="order-find"),
    path("orders/<uuid:order_id>/ship/", views.ship, name="ship"),
    path("orders/<uuid:order_id>/timeline/", views.timeline, name="timeline"),
    path("dead-letters/", views.dead_letters, name="dead-letters"),
    path(
        "dead-letters/<str:service>/<int:letter_id>/replay/",
        views.replay,
        name="replay",
    ),
]
