"""Reads about patients: coverage at check-in, consent checks, the records merged into one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from caravane.patients.models import Consent, Patient


@dataclass(frozen=True)
class CoverageStatus:
    """A patient's health coverage on a day, as check-in shows it."""

    kind: str
    label: str
    number: str
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    state: str  # none, valid, lapsed, not_yet_valid, undated

    @property
    def status(self) -> str:
        """The state in FHIR Coverage-like terms shared with check-in: active, lapsed, none or unknown."""
        return {"valid": "active", "lapsed": "lapsed", "not_yet_valid": "lapsed", "none": "none"}.get(
            self.state, "unknown")

    @property
    def is_lapsed(self) -> bool:
        return self.state == "lapsed"

    @property
    def needs_attention(self) -> bool:
        return self.state in ("lapsed", "not_yet_valid", "undated")

    @property
    def message(self) -> str:
        if self.state == "none":
            return _("No health coverage recorded.")
        if self.state == "lapsed":
            return _("%(coverage)s coverage lapsed on %(date)s: ask for a renewed card.") % {
                "coverage": self.label, "date": date_format(self.valid_until)}
        if self.state == "not_yet_valid":
            return _("%(coverage)s coverage only starts on %(date)s.") % {
                "coverage": self.label, "date": date_format(self.valid_from)}
        if self.state == "undated":
            return _("%(coverage)s coverage has no validity dates: check the card.") % {"coverage": self.label}
        if self.valid_until:
            return _("%(coverage)s coverage valid until %(date)s.") % {
                "coverage": self.label, "date": date_format(self.valid_until)}
        return _("%(coverage)s coverage valid.") % {"coverage": self.label}


def coverage_status(patient: Patient, on: datetime.date | None = None) -> CoverageStatus:
    """The patient's coverage (RAMED, AMO-Tadamon, AMO or none) and whether it holds on ``on`` (today)."""
    on = on or timezone.localdate()
    kind = patient.coverage_type or Patient.Coverage.NONE
    if kind == Patient.Coverage.NONE:
        state = "none"
    elif patient.coverage_valid_until is not None and on > patient.coverage_valid_until:
        state = "lapsed"
    elif patient.coverage_valid_from is not None and on < patient.coverage_valid_from:
        state = "not_yet_valid"
    elif patient.coverage_valid_until is None and patient.coverage_valid_from is None:
        state = "undated"
    else:
        state = "valid"
    return CoverageStatus(kind=kind, label=str(Patient.Coverage(kind).label), number=patient.coverage_number,
                          valid_from=patient.coverage_valid_from, valid_until=patient.coverage_valid_until,
                          state=state)


def surviving_record(patient: Patient) -> Patient:
    """The record that ``patient`` was merged into (followed to the end, as stored now), or ``patient`` itself."""
    seen, pk = {patient.pk}, patient.pk
    while True:
        target = Patient.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
        if target is None or target in seen:
            break
        seen.add(target)
        pk = target
    return patient if pk == patient.pk else Patient.objects.select_related("registration_site").get(pk=pk)


LINKED_IDS = "_linked_record_ids"


def linked_record_ids(patient: Patient) -> list:
    """The ids of a patient's record and of every record merged into it: their histories are one history.

    Kept on the instance, which lives for one request: a chart asks for them once per section; a merge
    forgets them on the records it is given.
    """
    cached = patient.__dict__.get(LINKED_IDS)
    if cached is not None:
        return list(cached)
    survivor = surviving_record(patient)
    ids, frontier = [survivor.pk], [survivor.pk]
    while frontier:
        frontier = [pk for pk in Patient.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
                    if pk not in ids]
        ids.extend(frontier)
    patient.__dict__[LINKED_IDS] = tuple(ids)
    return ids


def patient_consents(patient: Patient):
    """Every consent given under this patient's record or a record merged into it, newest first."""
    return (Consent.objects.filter(patient_id__in=linked_record_ids(patient))
            .select_related("obtained_by", "revocation", "revocation__revoked_by", "patient"))


def act_label(act: str) -> str:
    """The translated name of a telemedicine act."""
    return str(dict(Consent.Act.choices).get(act, act))


def has_valid_consent(patient: Patient, *, act: str, on: datetime.date | None = None) -> bool:
    """Whether the patient consented to ``act`` (a Consent.Act) and that consent holds on ``on`` (today)."""
    if act not in Consent.Act.values:
        raise ValueError(f"Unknown telemedicine act {act!r}")
    on = on or timezone.localdate()
    return any(act in consent.acts and consent.status_on(on) == "active" for consent in patient_consents(patient))


def require_consent(patient: Patient, *, act: str) -> None:
    """Raise ValidationError unless the patient has a valid consent to ``act`` today."""
    if not has_valid_consent(patient, act=act):
        raise ValidationError(
            _("No valid consent to %(act)s: record the patient's consent (or renew a revoked or expired one) "
              "before starting.") % {"act": act_label(act)},
            code="consent_required",
        )

