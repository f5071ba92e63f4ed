"""Reads for visits: the day's queue of a site, the patient chart's timeline and vital-sign series."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from caravane.core.access import Perm
from caravane.care import vitals
from caravane.care.models import AllergyIntolerance, Amendment, Condition, Encounter, MedicationRequest, Observation
from caravane.core.events import group_name
from caravane.patients.selectors import coverage_status, linked_record_ids, patient_consents


def queue_group(site_id, day: datetime.date) -> str:
    """The channel-layer group of a site's queue on a day."""
    return group_name("care", "queue", site_id, day.isoformat())


def queue_payload(encounter: Encounter) -> dict:
    """What a queue board needs to know that a visit changed (it then re-reads the board)."""
    return {"encounter": str(encounter.pk), "status": encounter.status, "priority": encounter.priority}


def coverage_of(patient, day: datetime.date) -> str:
    """The patient's health-coverage status on a day, as one of Encounter.Coverage's values."""
    status = coverage_status(patient, on=day).status
    return status if status in Encounter.Coverage.values else Encounter.Coverage.UNKNOWN


@dataclass
class QueueColumn:
    status: str
    label: str
    visits: list = field(default_factory=list)


def queue_for(user, site, day: datetime.date) -> list[QueueColumn]:
    """The site's visits of the day, one column per status, most urgent then earliest first."""
    columns = {status: QueueColumn(status, label) for status, label in Encounter.Status.choices}
    visits = (Encounter.objects.restrict(user, Perm.VIEW_QUEUE).filter(site=site, service_date=day)
              .select_related("patient", "stop_commune"))
    now = timezone.now()
    for visit in sorted(visits, key=lambda v: (Encounter.PRIORITY_ORDER[v.priority], v.checked_in_at)):
        since = {
            Encounter.Status.CHECKED_IN: visit.checked_in_at,
            Encounter.Status.WITH_NURSE: visit.nurse_started_at,
            Encounter.Status.WITH_GP: visit.gp_started_at,
        }.get(visit.status)
        visit.status_since = since
        visit.minutes_in_status = int((now - since).total_seconds() // 60) if since else None
        visit.minutes_total = int(((visit.finished_at or now) - visit.checked_in_at).total_seconds() // 60)
        columns[visit.status].visits.append(visit)
    return list(columns.values())


def queued_patients(site, day: datetime.date, patient_ids) -> set:
    """Which of these patients have an open visit (not done) in the site's queue that day."""
    if not patient_ids:
        return set()
    return set(Encounter.objects.filter(site=site, service_date=day, patient_id__in=list(patient_ids))
               .exclude(status=Encounter.Status.DONE).values_list("patient_id", flat=True))
def prescriptions_by_visit(prescriptions, day: datetime.date) -> list[tuple[Encounter, list[MedicationRequest]]]:
    """The prescription lines of a day's visits, by visit in check-in order (``prescriptions``: already scoped)."""
    lines = (prescriptions.filter(encounter__service_date=day)
             .select_related("encounter__patient", "encounter__site", "recorder")
             .order_by("encounter__checked_in_at", "created_at"))
    visits: dict = {}
    for line in lines:
        visits.setdefault(line.encounter_id, (line.encounter, []))[1].append(line)
    return list(visits.values())


def encounters_of(patient):
    """All the patient's visits (merged records included), newest first, with everything recorded in them.

    Only for a chart whose opening the gate granted: the chart is whole.
    """
    return (
        Encounter.objects.filter(patient_id__in=linked_record_ids(patient))
        .select_related("site", "stop_commune", "signed_by", "practitioner", "nurse", "referral_to")
        .prefetch_related(
            Prefetch("observations", queryset=Observation.objects.order_by("effective_at", "code")),
            Prefetch("conditions", queryset=Condition.objects.order_by("created_at")),
            Prefetch("medication_requests", queryset=MedicationRequest.objects.order_by("created_at")),
            Prefetch("amendments", queryset=Amendment.objects.select_related("author")),
        )
        .order_by("-service_date", "-checked_in_at")
    )


@dataclass(frozen=True)
class Series:
    sign: vitals.VitalSign
    points: tuple[tuple[datetime.datetime, float], ...]


CHARTED = ("weight", "systolic", "diastolic", "heart_rate", "temperature", "spo2", "glucose", "bmi", "weight_for_age_z")


def vital_series(encounters) -> list[Series]:
    """Each charted sign's values over time, taken from already-loaded encounters."""
    by_code: dict[str, list] = {}
    for encounter in encounters:
        for observation in encounter.observations.all():
            by_code.setdefault(observation.code, []).append((observation.effective_at, float(observation.value)))
    series = []
    for key in CHARTED:
        sign = vitals.BY_KEY[key]
        if sign.code in by_code:
            series.append(Series(sign, tuple(sorted(by_code[sign.code]))))
    return series


def consents_of(patient) -> list:
    """The patient's consents (under this record or one merged into it), newest first."""
    return list(patient_consents(patient))



@dataclass(frozen=True)
class AllergyList:
    """What is known of a patient's allergies: ``state`` is not_recorded, none_known or listed."""

    state: str
    allergies: tuple = ()  # the current ones, high risk first
    history: tuple = ()  # every statement ever recorded, newest first (the chart shows them)

    @property
    def has_high_risk(self) -> bool:
        return any(a.criticality == AllergyIntolerance.Criticality.HIGH for a in self.allergies)


def allergies_of(patient) -> AllergyList:
    """The patient's allergies (merged records' too): only for a patient whose reading the gate granted."""
    rows = list(AllergyIntolerance.objects.filter(patient_id__in=linked_record_ids(patient))
                .select_related("recorder").order_by("-recorded_at"))
    current = [a for a in rows if a.is_current]
    listed = sorted((a for a in current if not a.is_no_known_allergy),
                    key=lambda a: a.criticality != AllergyIntolerance.Criticality.HIGH)
    if listed:
        state = "listed"
    elif current:
        state = "none_known"
    else:
        state = "not_recorded"
    return AllergyList(state, tuple(listed), tuple(rows))
