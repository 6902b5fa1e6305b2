from inventory_service.settings.base import *  # noqa: F403
from inventory_service.settings.base import REST_FRAMEWORK
from service_platform.settings.common import API_AUTHENTICATION_CLASSES
from service_platform.settings.identity import simple_jwt_settings

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
SIMPLE_JWT = simple_jwt_settings(issues_tokens=False)
# HTTP Basic for trying the API by hand; it hashes the password on every request.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *API_AUTHENTICATION_CLASSES,
        "rest_framework.authentication.BasicAuthentication",
    ],
}
