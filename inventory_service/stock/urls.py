from django.urls import path

from inventory_service.stock import apis

urlpatterns = [
    path("", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("<str:sku>/", apis.ProductDetailApi.as_view(), name="product-detail"),
    path("<str:sku>/restock/", apis.ProductRestockApi.as_view(), name="product-restock"),
]
