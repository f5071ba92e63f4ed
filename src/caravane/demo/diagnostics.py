"""Demo ECGs: a 12-lead resting ECG (synthetic, as a DICOM 12-lead ECG) and, when ../shared holds it, the public
MIT-BIH record 100, filed in the latest visit at Imilchil by its GP through the import action. Run again, it adds
nothing (a visit's demo ECG is known by its file name: a DICOM object written again has new UIDs)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from caravane.care.models import Encounter
from caravane.diagnostics.actions import Filing, Received, do_import_ecg
from caravane.diagnostics.models import EcgRecording
from caravane.diagnostics.synthetic import synthetic_12_lead, to_dicom_ecg

SHARED_WFDB = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ecg" / "wfdb" / "mitdb_100"


def build_demo_diagnostics() -> int:
    """File the demo ECGs; the number filed by this run."""
    gp = get_user_model().objects.filter(username="gp.imilchil").first()
    visit = Encounter.objects.filter(site__code="rhc-imilchil").order_by("-checked_in_at").first()
    if gp is None or visit is None:
        return 0
    filed = 0
    for name, received in (("ecg-12-leads.dcm", _twelve_lead), ("100.hea", _mitdb_100)):
        if EcgRecording.objects.filter(encounter=visit, filename=name).exists():
            continue
        files = received()
        if files:
            do_import_ecg(actor=gp, filing=Filing(encounter=visit), received=files)
            filed += 1
    return filed


def _twelve_lead() -> list[Received]:
    return [Received("ecg-12-leads.dcm", "application/dicom", to_dicom_ecg(synthetic_12_lead()))]


def _mitdb_100() -> list[Received]:
    if not SHARED_WFDB.is_dir():
        return []
    return [Received(p.name, "application/octet-stream", p.read_bytes())
            for p in sorted(SHARED_WFDB.iterdir(), key=lambda p: p.suffix != ".hea") if p.suffix in (".hea", ".dat")]
