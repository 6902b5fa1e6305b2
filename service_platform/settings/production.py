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
    "SECURE_PROXY_SSL_HEADER",
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
STATIC_ROOT = _production["STATIC_ROOT"]
LOGGING = _production["LOGGING"]
KAFKA = _production["KAFKA"]
