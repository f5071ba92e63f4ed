"""Fixtures for planning tests: the real facility list and a coordinator."""

from pathlib import Path

import pytest

HEALTHSITES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "morocco" / "healthsites_2020"
               / "morocco_healthsites_2020.csv")


@pytest.fixture
def healthsites_csv():
    """The healthsites.io 2020 export for Morocco (skips when the shared data is absent)."""
    if not HEALTHSITES.exists():
        pytest.skip("shared healthsites data not available")
    return HEALTHSITES.read_bytes()


@pytest.fixture
def coordinator(staff_factory):
    """A national coordinator (no coverage region: national scope)."""
    return staff_factory(role="coordinator", username="coord", password="caravane-test-pass").user
