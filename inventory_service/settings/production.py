from inventory_service.settings.base import *  # noqa: F403
from service_platform.settings.identity import simple_jwt_settings
from service_platform.settings.production import *  # noqa: F403

SIMPLE_JWT = simple_jwt_settings(issues_tokens=False, production=True)
