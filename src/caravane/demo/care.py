"""Demo clinical data: the demo patients, their past visits (so that charts have trends) and today's queue.

``build_demo_care`` runs after the demo network. Like it, it is idempotent: every row has a UUID derived from
the slot it fills (the 12th patient of Imilchil, her 3rd past visit, the 5th place in today's queue), and a
second run adds only what is missing. Past visits are placed relative to the day of the first run; today's
queue is keyed by its day, so a run on a later day adds that day's queue. Everything is written in bulk in one
transaction with one audit row: the actions would stamp every visit "now", and history needs past dates.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from caravane.audit.actions import do_record_audit
from caravane.care import growth, icd10, vitals
from caravane.care.models import Condition, Encounter, MedicationRequest, Observation
from caravane.care.selectors import coverage_of
from caravane.demo.network import DemoError, demo_id
from caravane.core.access import Role
from caravane.network.models import Site
from caravane.demo.patients import REGISTRATION_SITES, DemoPatient, create_demo_patients, plan_demo_patients, staff_id
from caravane.patients.models import Consent, Patient

QUEUE_SITE = "rhc-imilchil"
# Today's queue at Imilchil, in check-in order: four seen, three with the GP, three with the nurse, four waiting.
QUEUE = [Encounter.Status.DONE] * 4 + [Encounter.Status.WITH_GP] * 3 + [Encounter.Status.WITH_NURSE] * 3 + \
        [Encounter.Status.CHECKED_IN] * 4
QUEUE_PRIORITY = {4: Encounter.Priority.URGENT, 8: Encounter.Priority.URGENT, 11: Encounter.Priority.EMERGENCY}
HISTORY_AT_QUEUE_SITE = 30  # the first 30 patients of Imilchil all have past visits; elsewhere one in four
SEED = 2027


@dataclass(frozen=True)
class Profile:
    """What a visit is about: its reason, the GP's assessment, diagnoses (ICD-10) and prescription lines."""

    reason: str
    assessment: str
    diagnoses: tuple[str, ...]
    # medication, dose value and unit, route, timing (caravane.care.dosage), days, instructions
    prescriptions: tuple[tuple[str, str, str, str, str, int, str], ...]
    fever: bool = False


# Written in French, as the network's doctors write their notes; routes are coded (MedicationRequest.Route).
CHRONIC = {
    "hypertension": Profile("Suivi tensionnel", "Hypertension artérielle essentielle", ("I10",),
                            (("Amlodipine 5 mg", "1", "tablet", "oral", "1/d", 90, ""),)),
    "diabetes": Profile("Suivi du diabète", "Diabète de type 2 non compliqué", ("E11.9",),
                        (("Metformine 850 mg", "1", "tablet", "oral", "2/d", 90, "au cours des repas"),)),
    "pregnancy": Profile("Consultation prénatale", "Grossesse d'évolution normale", ("Z34.9",),
                         (("Sulfate ferreux 200 mg + acide folique 0,4 mg", "1", "tablet", "oral", "1/d", 30, ""),)),
}
ACUTE = [
    Profile("Fièvre et mal de gorge", "Infection aiguë des voies respiratoires supérieures, probablement virale",
            ("J06.9",),
            (("Paracétamol 500 mg", "2", "tablet", "oral", "3/d", 5, ""),), fever=True),
    Profile("Toux depuis une semaine", "Bronchite aiguë", ("J20.9",),
            (("Amoxicilline 1 g", "1", "tablet", "oral", "2/d", 7, ""),
             ("Paracétamol 500 mg", "2", "tablet", "oral", "prn", 5, "si fièvre")), fever=True),
    Profile("Diarrhée depuis deux jours", "Gastro-entérite aiguë sans déshydratation", ("A09.9",),
            (("Sels de réhydratation orale (SRO)", "1", "sachet", "oral", "prn", 3,
              "dans 1 L d'eau, après chaque selle liquide"),)),
    Profile("Douleurs épigastriques", "Gastrite", ("K29.7",),
            (("Oméprazole 20 mg", "1", "capsule", "oral", "morning", 28, "avant le petit-déjeuner"),)),
    Profile("Lombalgie", "Lombalgie commune", ("M54.5",),
            (("Ibuprofène 400 mg", "1", "tablet", "oral", "3/d", 5, "au cours des repas"),)),
    Profile("Brûlures mictionnelles", "Infection urinaire basse non compliquée", ("N39.0",),
            (("Nitrofurantoïne 100 mg", "1", "capsule", "oral", "2/d", 5, ""),)),
    Profile("Œil rouge avec sécrétions", "Conjonctivite bactérienne", ("H10.9",),
            (("Tobramycine 0,3 % collyre", "1", "drop", "ophthalmic", "4/d", 7, "dans chaque œil"),)),
    Profile("Éruption cutanée prurigineuse", "Dermatite", ("L30.9",),
            (("Hydrocortisone 1 % crème", "1", "application", "topical", "2/d", 7, "en couche mince"),)),
]
CHILD_ACUTE = [
    Profile("Fièvre et toux", "Infection aiguë des voies respiratoires supérieures", ("J06.9",),
            (("Paracétamol sirop 120 mg/5 mL", "5", "mL", "oral", "q6h", 3, ""),), fever=True),
    Profile("Diarrhée", "Gastro-entérite aiguë sans déshydratation", ("A09.9",),
            (("Sels de réhydratation orale (SRO)", "1", "sachet", "oral", "prn", 3,
              "dans 1 L d'eau, après chaque selle liquide"),
             ("Zinc 20 mg", "1", "tablet", "oral", "1/d", 10, ""))),
]


@dataclass
class CareDemoResult:
    counts: dict[str, int]
    created: dict[str, int]
    seconds: float


@dataclass
class _Rows:
    encounters: list = field(default_factory=list)
    observations: list = field(default_factory=list)
    conditions: list = field(default_factory=list)
    prescriptions: list = field(default_factory=list)


def _age(patient: Patient, day: datetime.date) -> float | None:
    return growth.age_in_years(patient.birth_date, day)


def _chronic_condition(patient: Patient, today: datetime.date, rng: random.Random) -> str | None:
    age = _age(patient, today) or 0
    draw = rng.random()
    if patient.gender == "female" and 18 <= age <= 40 and draw < 0.15:
        return "pregnancy"
    if age >= 40 and draw < 0.35:
        return "hypertension"
    if age >= 35 and draw < 0.55:
        return "diabetes"
    return None


def _vital_values(patient: Patient, day: datetime.date, condition: str | None, profile: Profile, step: int,
                  rng: random.Random) -> dict[str, float]:
    """Plausible vital signs; treated conditions improve from one visit to the next (``step``), so charts trend."""
    age = _age(patient, day) or 40
    child = age < 15
    base_weight = 12 + 3 * age if child else 58 + patient.pk.int % 25
    values = {"heart_rate": rng.randint(66, 92) + (12 if profile.fever else 0),
              "temperature": round(rng.uniform(38.1, 39.2) if profile.fever else rng.uniform(36.4, 37.1), 1),
              "spo2": rng.randint(95, 99),
              "weight": round(base_weight + (step * 0.8 if condition == "pregnancy" else rng.uniform(-1.2, 1.2)), 1)}
    if child:
        values["height"] = round(80 + 6.5 * age, 1)
        return values
    values["height"] = 150 + patient.pk.int % 30
    if condition == "hypertension":
        values["systolic"] = 172 - 7 * step + rng.randint(-4, 4)
        values["diastolic"] = 102 - 4 * step + rng.randint(-3, 3)
    else:
        values["systolic"] = rng.randint(108, 134)
        values["diastolic"] = rng.randint(66, 84)
    if condition == "diabetes":
        values["glucose"] = 265 - 22 * step + rng.randint(-12, 12)
    elif rng.random() < 0.2:
        values["glucose"] = rng.randint(80, 125)
    return values


def _observations(encounter: Encounter, values: dict[str, float], at: datetime.datetime) -> list[Observation]:
    patient = encounter.patient
    age = _age(patient, encounter.service_date)
    quantized = {key: vitals.BY_KEY[key].quantize(Decimal(str(value))) for key, value in values.items()}
    if "weight" in quantized and "height" in quantized:
        quantized["bmi"] = vitals.body_mass_index(quantized["weight"], quantized["height"])
    rows = []
    for key, value in quantized.items():
        sign = vitals.BY_KEY[key]
        rows.append(Observation(
            id=demo_id("observation", encounter.pk, key), encounter=encounter, patient=patient,
            recorder_id=encounter.nurse_id, code=sign.code, system=sign.system, display=sign.display, value=value,
            unit=sign.unit, panel=sign.panel, interpretation=sign.interpret(value, age), effective_at=at))
    return rows


def _consultation(rows: _Rows, encounter: Encounter, profile: Profile) -> None:
    """The GP's diagnoses and prescriptions for a visit."""
    for code in profile.diagnoses:
        entry = icd10.lookup(code)
        rows.conditions.append(Condition(
            id=demo_id("condition", encounter.pk, code), encounter=encounter, patient=encounter.patient,
            recorder_id=encounter.practitioner_id, icd10_code=entry.code, icd10_label=entry.label_in("fr")))
    for n, (medication, value, unit, route, timing, days, instructions) in enumerate(profile.prescriptions):
        rows.prescriptions.append(MedicationRequest(
            id=demo_id("prescription", encounter.pk, n), encounter=encounter, patient=encounter.patient,
            recorder_id=encounter.practitioner_id, medication=medication, dose_value=Decimal(value), dose_unit=unit,
            route=route, timing=timing, duration_days=days, instructions=instructions))


def _visit(rows: _Rows, pk, planned: DemoPatient, day: datetime.date, checked_in_at: datetime.datetime,
           status: str, profile: Profile, values: dict | None, *, priority=Encounter.Priority.STANDARD) -> Encounter:
    """One visit taken as far as ``status``, with vital signs once the nurse has seen the patient."""
    site_code, patient = planned.site_code, planned.patient
    steps = [Encounter.Status.CHECKED_IN, Encounter.Status.WITH_NURSE, Encounter.Status.WITH_GP,
             Encounter.Status.DONE]
    reached = steps.index(status)
    nurse_at = checked_in_at + datetime.timedelta(minutes=12)
    gp_at = checked_in_at + datetime.timedelta(minutes=28)
    done_at = checked_in_at + datetime.timedelta(minutes=47)
    encounter = Encounter(
        id=pk, patient=patient, site_id=patient.registration_site_id, service_date=day, status=status,
        priority=priority, coverage_status=coverage_of(patient, day), checked_in_at=checked_in_at,
        checked_in_by_id=staff_id(site_code, Role.ADMINISTRATIVE_ASSISTANT),
        nurse_started_at=nurse_at if reached >= 1 else None,
        nurse_id=staff_id(site_code, Role.NURSE) if reached >= 1 else None,
        gp_started_at=gp_at if reached >= 2 else None,
        practitioner_id=staff_id(site_code, Role.GP) if reached >= 2 else None,
        reason=profile.reason if reached >= 2 else "")
    if reached == 3:
        encounter.history = "Symptômes rapportés par le patient. Pas d'allergie connue."
        encounter.examination = "Bon état général. Examen clinique en faveur du diagnostic retenu."
        encounter.assessment = profile.assessment
        encounter.plan = "Traitement prescrit et expliqué. Reconsulter en cas d'aggravation ou au prochain contrôle."
        encounter.finished_at = encounter.signed_at = done_at
        encounter.signed_by_id = encounter.practitioner_id
        _consultation(rows, encounter, profile)
    rows.encounters.append(encounter)
    if values is not None and reached >= 1:
        rows.observations.extend(_observations(encounter, values, nurse_at + datetime.timedelta(minutes=5)))
    return encounter


def _local(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _plan_care(planned: list[DemoPatient], today: datetime.date, now: datetime.datetime) -> _Rows:
    """Past visits for some patients and today's queue at Imilchil, drawn from a fixed seed."""
    rng = random.Random(SEED)
    rows = _Rows()
    conditions = {p.patient.pk: _chronic_condition(p.patient, today, rng) for p in planned}

    def profile_for(p: DemoPatient) -> Profile:
        condition = conditions[p.patient.pk]
        if condition:
            return CHRONIC[condition]
        child = (_age(p.patient, today) or 40) < 15
        return rng.choice(CHILD_ACUTE if child else ACUTE)

    for p in planned:
        has_history = p.slot < HISTORY_AT_QUEUE_SITE if p.site_code == QUEUE_SITE else rng.random() < 0.25
        if not has_history:
            continue
        count = rng.randint(2, 5)
        day = today - datetime.timedelta(days=rng.randint(10, 40))
        days = []
        for _ in range(count):
            days.append(max(day, p.registered_on))
            day -= datetime.timedelta(days=rng.randint(25, 70))
        for step, day in enumerate(sorted(set(days))):
            profile = profile_for(p)
            values = _vital_values(p.patient, day, conditions[p.patient.pk], profile, step, rng)
            _visit(rows, demo_id("encounter", p.site_code, p.slot, "history", step), p, day,
                   _local(day, 8 + rng.randint(0, 5), rng.randint(0, 59)), Encounter.Status.DONE, profile, values)
    at_queue_site = [p for p in planned if p.site_code == QUEUE_SITE]
    for place, status in enumerate(QUEUE):
        p = at_queue_site[place]
        profile = profile_for(p)
        past = sum(1 for e in rows.encounters if e.patient_id == p.patient.pk)
        values = _vital_values(p.patient, today, conditions[p.patient.pk], profile, past, rng)
        if status == Encounter.Status.WITH_NURSE and place == len(QUEUE) - 5:
            values = None  # the nurse has just called this patient in
        # Earlier places in the queue arrived earlier; everyone arrived within the last four hours.
        checked_in_at = now - datetime.timedelta(minutes=240 - place * 16)
        _visit(rows, demo_id("encounter", "queue", today.isoformat(), place), p, today, checked_in_at, status,
               profile, values, priority=QUEUE_PRIORITY.get(place, Encounter.Priority.STANDARD))
    return rows


def _insert_new(rows: _Rows) -> dict[str, int]:
    """Insert the visits not stored yet, with what was recorded in them."""
    stored = set(Encounter.objects.filter(pk__in=[e.pk for e in rows.encounters]).values_list("pk", flat=True))
    new = {e.pk for e in rows.encounters if e.pk not in stored}
    created = {}
    for name, model, items, owner in (
            ("visits", Encounter, rows.encounters, lambda r: r.pk),
            ("vital_signs", Observation, rows.observations, lambda r: r.encounter_id),
            ("diagnoses", Condition, rows.conditions, lambda r: r.encounter_id),
            ("prescriptions", MedicationRequest, rows.prescriptions, lambda r: r.encounter_id)):
        fresh = [row for row in items if owner(row) in new]
        model.objects.bulk_create(fresh, batch_size=500)  # bulk: the rows are final, their save() checks don't apply
        created[name] = len(fresh)
    return created


def demo_care_counts(today: datetime.date | None = None) -> dict[str, int]:
    """Row counts of the clinical demo, as the demo command reports them."""
    today = today or timezone.localdate()
    queue_site = Site.objects.filter(code=QUEUE_SITE).values_list("pk", flat=True).first()
    return {
        "patients": Patient.objects.count(),
        "consents": Consent.objects.count(),
        "visits": Encounter.objects.count(),
        "vital_signs": Observation.objects.count(),
        "diagnoses": Condition.objects.count(),
        "prescriptions": MedicationRequest.objects.count(),
        "queue_today": Encounter.objects.filter(site_id=queue_site, service_date=today).count(),
    }


def build_demo_care() -> CareDemoResult:
    """Add the demo patients and their care (after the demo network) in one transaction with one audit row."""
    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate(now)
    codes = [code for code, _count in REGISTRATION_SITES]
    with transaction.atomic(durable=True):
        sites = {site.code: site for site in Site.objects.filter(code__in=codes)}
        if len(sites) < len(codes):
            raise DemoError("Build the demo network first: sites " + ", ".join(sorted(set(codes) - set(sites)))
                            + " are missing.")
        planned = plan_demo_patients(sites, today)
        created = create_demo_patients(planned)
        created.update(_insert_new(_plan_care(planned, today, now)))
        counts = demo_care_counts(today)
        do_record_audit(actor=None, action="build_demo_care", target=("care.demo", ""),
                        detail={"created": created, "counts": counts})
    return CareDemoResult(counts=counts, created=created, seconds=time.perf_counter() - started)
