"""Production: the services' hardening (no DEBUG, a real secret, HTTPS; it refuses to start
otherwise), and no defaults for where the storefront's servers are."""

from service_platform.settings.hardening import production_settings
from storefront.settings.base import *  # noqa: F403
from storefront.settings.base import CACHES, env, storefront_logging

_production = production_settings()
DEBUG = _production["DEBUG"]
SECRET_KEY = _production["SECRET_KEY"]
ALLOWED_HOSTS = _production["ALLOWED_HOSTS"]
SESSION_COOKIE_SECURE = _production["SESSION_COOKIE_SECURE"]
CSRF_COOKIE_SECURE = _production["CSRF_COOKIE_SECURE"]
SECURE_PROXY_SSL_HEADER = _production["SECURE_PROXY_SSL_HEADER"]
SECURE_SSL_REDIRECT = _production["SECURE_SSL_REDIRECT"]
SECURE_REDIRECT_EXEMPT = _production["SECURE_REDIRECT_EXEMPT"]
SECURE_HSTS_SECONDS = _production["SECURE_HSTS_SECONDS"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = _production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
SECURE_HSTS_PRELOAD = _production["SECURE_HSTS_PRELOAD"]
STATIC_ROOT = _production["STATIC_ROOT"]
LOGGING = storefront_logging(_production["LOGGING"])
KAFKA = _production["KAFKA"]

# Refuse to start rather than call a development default.
ORDER_API_URL = env.str("ORDER_API_URL")
INVENTORY_API_URL = env.str("INVENTORY_API_URL")
STOREFRONT_REDIS_URL = env.str("STOREFRONT_REDIS_URL")
CACHES = {"default": {**CACHES["default"], "LOCATION": STOREFRONT_REDIS_URL}}
