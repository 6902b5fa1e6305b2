from django.urls import path

from storefront.shop import stream, views

app_name = "shop"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<str:sku>/", views.product_detail, name="product"),
    path("cart/", views.cart_view, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<uuid:order_id>/", views.order_detail, name="order"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<uuid:order_id>/stream", stream.order_stream, name="order-stream"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", views.logout, name="logout"),
    path("accounts/register/", views.register, name="register"),
]
