from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "storefront.shop"
    label = "shop"
