from django.apps import AppConfig


class ApiDocsConfig(AppConfig):
    name = "storefront.apidocs"
    label = "apidocs"
