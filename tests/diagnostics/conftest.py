"""Fixtures for ECGs and photographs: the telemedicine network of tests/telemed, the shared public samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.telemed.conftest import (  # noqa: F401 (fixtures)
    consent, english, media, network, patient, people, request_act, specialties, visit)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "ecg" / "wfdb").is_dir(),
                                  reason="the shared DICOM and ECG samples (../shared) are absent")


def wfdb_files(record: str) -> list[tuple[str, bytes]]:
    """A shared WFDB record's files as (name, content)."""
    folder = SHARED / "ecg" / "wfdb" / record
    return [(path.name, path.read_bytes()) for path in sorted(folder.iterdir()) if path.suffix in (".hea", ".dat")]


@pytest.fixture(scope="session")
def twelve_lead():
    """A synthetic 10-second 12-lead ECG at 500 Hz, 72/min."""
    from caravane.diagnostics.synthetic import synthetic_12_lead

    return synthetic_12_lead()
