import os

from celery import Celery

import shared_events.observability.celery  # noqa: F401  (worker metrics port)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_service.settings.dev")

app = Celery("inventory_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["shared_events.django"])
