#!/usr/bin/env python
"""Django's command-line utility for a source checkout (same as the `caravane` command)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from caravane.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
