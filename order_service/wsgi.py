import os

from django.core.wsgi import get_wsgi_application

# Servers and workers run production settings unless told otherwise (manage.py keeps dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_service.settings.production")

application = get_wsgi_application()
