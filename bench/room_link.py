"""The call room across weak links (issue 11): time from "call now" to the first decoded remote video frame on
loopback and across 256 kbit/s with a 300 ms round trip, the mode a call settles on there with 5 % loss and the
share of audio concealed, the end at 32 kbit/s, and a call through TURN only with the bytes the relay host carries
per minute of low video and of sound only.

Needs root (network namespaces; see tests/rooms/netlink.py and docs/rooms-links.md), iptables, Debian's chromium
and coturn. Run: ``sudo .venv/bin/python bench/room_link.py`` (ROOM_LINK_SETTLE_S: seconds each call runs, 60)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the scenarios of tests/rooms/link_scenarios.py and print their figures."""
    import pytest

    sys.path.insert(0, str(ROOT / "src"))
    figures = Path(tempfile.mkstemp(prefix="room-link-", suffix=".jsonl")[1])
    os.environ["ROOM_LINK_FIGURES"] = str(figures)
    os.chdir(ROOT)
    code = pytest.main(["tests/rooms/link_scenarios.py", "-p", "no:warnings", "-q", *sys.argv[1:]])
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for line in figures.read_text().splitlines():
        row = json.loads(line)
        print(f"\n{row.pop('scenario')}")
        for name, value in row.items():
            print(f"  {name:28} {value}")
    figures.unlink()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
