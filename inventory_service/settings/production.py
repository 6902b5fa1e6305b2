from inventory_service.settings.base import *  # noqa: F403
from service_platform.settings.production import *  # noqa: F403
