from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "inventory_service.stock"
    label = "stock"
    default_auto_field = "django.db.models.BigAutoField"
