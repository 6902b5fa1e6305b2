from order_service.settings.base import *  # noqa: F403

DEBUG = True
WHITENOISE_USE_FINDERS = True
