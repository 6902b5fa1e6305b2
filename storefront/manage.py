#!/usr/bin/env python
"""Django's command-line utility for the storefront."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Run from the repository root, so `storefront`, `shared_events` and the rest import.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
