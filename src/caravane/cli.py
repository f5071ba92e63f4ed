"""The `caravane` console command: Django's management commands with Caravane's settings."""

import os
import sys


def main() -> None:
    """Run a management command, e.g. `caravane migrate` or `caravane demo`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")
    from caravane.config import ConfigurationError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ConfigurationError as error:
        sys.stderr.write(f"{error}\n")
        raise SystemExit(2)


if __name__ == "__main__":
    main()
