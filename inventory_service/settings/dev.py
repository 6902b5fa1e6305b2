from inventory_service.settings.base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
