import uuid

from storefront.settings.base import *  # noqa: F403
from storefront.settings.base import CACHES

DEBUG = False
WHITENOISE_USE_FINDERS = True
# Sessions of this run only, on the shared Redis.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"storefront-test-{uuid.uuid4().hex[:8]}"}}
