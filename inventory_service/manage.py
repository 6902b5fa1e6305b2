#!/usr/bin/env python
"""Django's command-line utility for the Inventory Service."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Run from the repository root, not this folder: `celery.py` here would shadow Celery.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_service.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
