from order_service.settings.base import *  # noqa: F403
from service_platform.settings.production import production_settings

globals().update(production_settings())
