"""Fixtures for call rooms: the telemedicine network of tests/telemed, and a teleconsultation accepted by the
regional centre's cardiologist."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

# The telemedicine network of tests/telemed.
from tests.telemed.conftest import (  # noqa: F401 (fixtures)
    consent, english, media, network, patient, people, request_act, specialties, visit)


@pytest.fixture
def accepted(request_act, people):
    """A routine cardiology teleconsultation from the spoke, accepted by the regional centre's cardiologist."""
    from caravane.telemed.actions import do_accept

    return do_accept(actor=people.cardiologist, act=request_act())


def audit_rows(action: str, user=None):
    """The audit rows of ``action`` (by ``user``), oldest first, as (outcome, reason) pairs."""
    from caravane.audit.models import AuditEvent

    rows = AuditEvent.objects.filter(action=action).order_by("at")
    if user is not None:
        rows = rows.filter(actor=user)
    return [(row.outcome, (row.detail or {}).get("reason", "")) for row in rows]


# Below the kernel's ephemeral range (32768-60999): a client socket of another test can never hold them.
TURN_PORT = 23478
TURN_RELAY_PORTS = (23479, 23499)
TURN_SECRET = "test-turn-secret-for-loopback-only"
TURN_REALM = "caravane.test"


@contextmanager
def running_turnserver(folder: Path, *, host: str = "127.0.0.1", port: int = TURN_PORT,
                       relay_ports: tuple[int, int] = TURN_RELAY_PORTS, secret: str = TURN_SECRET):
    """Debian's coturn on ``host``, authenticating by the shared secret (use-auth-secret), until the block ends;
    ``log()`` reads what it wrote. Skips the test without it."""
    binary = shutil.which("turnserver") or ("/usr/bin/turnserver" if Path("/usr/bin/turnserver").exists() else None)
    if binary is None:
        pytest.skip("coturn's turnserver is not installed (apt-get install -y coturn; run.sh installs it)")
    log_path = folder / "turnserver.log"
    command = [binary, "-n", f"--listening-ip={host}", f"--relay-ip={host}", f"--listening-port={port}",
               f"--min-port={relay_ports[0]}", f"--max-port={relay_ports[1]}", "--use-auth-secret",
               f"--static-auth-secret={secret}", f"--realm={TURN_REALM}", "--no-tls", "--no-dtls", "--no-cli",
               "--allow-loopback-peers", "--fingerprint", f"--userdb={folder / 'turndb'}",
               f"--pidfile={folder / 'turnserver.pid'}", "--log-file=stdout", "--simple-log", "--verbose"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"turnserver exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"turnserver did not listen:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.1)
        yield SimpleNamespace(host=host, port=port, relay_ports=relay_ports, secret=secret, realm=TURN_REALM,
                              url=f"turn:{host}:{port}?transport=udp",
                              log=lambda: log_path.read_text(errors="replace"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def turnserver(tmp_path):
    """Debian's coturn on loopback, authenticating by the shared secret (use-auth-secret); skipped without it."""
    with running_turnserver(tmp_path) as server:
        yield server
