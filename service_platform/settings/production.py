"""Production settings both services share: a service's production settings import every
name of this module after its base settings. Importing it checks the environment and
refuses to start when it is unsafe (see `hardening`)."""

from service_platform.settings.hardening import production_settings

__all__ = [
    "ALLOWED_HOSTS",
    "CSRF_COOKIE_SECURE",
    "DEBUG",
    "KAFKA",
    "LOGGING",
    "SECRET_KEY",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "STATIC_ROOT",
]

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
LOGGING = _production["LOGGING"]
KAFKA = _production["KAFKA"]
