#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # A developer's shell with nothing configured gets development settings; a configured
    # (production) environment sets SECRET_KEY, and DEBUG then stays as it says (default off).
    if "SECRET_KEY" not in os.environ:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
