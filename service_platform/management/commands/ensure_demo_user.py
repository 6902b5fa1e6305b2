"""`manage.py ensure_demo_user`: the development login (demo/demo unless overridden)."""

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the development superuser (DEMO_USERNAME/DEMO_PASSWORD, default demo/demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "demo")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        state = "created" if created else "exists"
        self.stdout.write(f"user {username!r} {state}; API access tokens: POST /api/auth/token/")
