from storefront.settings.base import *  # noqa: F403
from storefront.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
