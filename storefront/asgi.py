import os

from django.core.asgi import get_asgi_application

# Servers run production settings unless told otherwise (manage.py keeps dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings.production")

application = get_asgi_application()
