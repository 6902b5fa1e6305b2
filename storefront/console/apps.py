from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "storefront.console"
    label = "console"
    verbose_name = "Staff console"
