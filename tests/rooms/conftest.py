"""Fixtures for call rooms: the telemedicine network of tests/telemed, and a teleconsultation accepted by the
regional centre's cardiologist."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _telemed_fixtures():
    """tests/telemed/conftest.py, loaded by path (test directories are not packages)."""
    spec = importlib.util.spec_from_file_location("caravane_test_telemed_fixtures",
                                                  Path(__file__).resolve().parents[1] / "telemed" / "conftest.py")
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


_telemed = _telemed_fixtures()
english, specialties, network, people, patient = (_telemed.english, _telemed.specialties, _telemed.network,
                                                  _telemed.people, _telemed.patient)
consent, visit, request_act, media, fast_passwords = (_telemed.consent, _telemed.visit, _telemed.request_act,
                                                      _telemed.media, _telemed.fast_passwords)


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
