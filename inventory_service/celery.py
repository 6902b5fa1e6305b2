import os

from celery import Celery

import shared_events.observability.celery  # noqa: F401  (worker metrics port)

# Servers and workers run production settings unless told otherwise (manage.py keeps dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_service.settings.production")

app = Celery("inventory_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["shared_events.django"])
