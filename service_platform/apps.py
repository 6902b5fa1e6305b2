from django.apps import AppConfig


class ServicePlatformConfig(AppConfig):
    name = "service_platform"
    label = "service_platform"
    verbose_name = "Service platform"
