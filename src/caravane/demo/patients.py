"""Demo patients: about 300 people registered at the pilot centres and a few mobile units, with consents.

Planned from a fixed seed, so that every run plans the same people with the same ids; ``create_demo_patients``
inserts only those not stored yet. Called by the care demo (``caravane.demo.care``), inside its transaction.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from caravane.demo.network import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, demo_id
from caravane.core.access import Role
from caravane.network.models import Site
from caravane.patients.identifiers import record_number_for
from caravane.patients.models import Consent, Patient, PatientNameToken
from caravane.patients.search import name_keys_of, set_ranking_texts

# Where the demo patients are registered, and how many at each site.
REGISTRATION_SITES = [("rhc-imilchil", 80), ("rhc-zaouiat-ahansal", 30), ("rhc-ait-tamlil", 30), ("rhc-anfgou", 30),
                      ("rhc-taliouine", 30), ("rhc-talsint", 30), ("unit-01", 20), ("unit-02", 20), ("unit-03", 15),
                      ("unit-04", 15)]
CIN_LETTERS = ["D", "DA", "JA", "JB", "JC", "JE", "JH", "JK", "PA", "U", "UA", "V"]
DOUARS = ["Douar Agoudal", "Douar Tighrem", "Douar Ait Ameur", "Douar Tizi", "Douar Anergui", "Douar Bouzmou",
          "Douar Assaka", "Douar Igherm", "Douar Tamda", "Douar Ait Ali"]
ALL_ACTS = [act for act in Consent.Act.values]
SEED = 2026


@dataclass
class DemoPatient:
    """A planned demo patient: the record, and what the care demo needs to know about them."""

    patient: Patient
    site_code: str
    slot: int  # the patient's number at their site, from 0
    registered_on: datetime.date
    consents: bool


def staff_id(site_code: str, role: str, n: int = 1):
    """The id of the demo network's ``n``-th staff member of ``role`` at a site."""
    return demo_id("staff", f"{site_code}:{role}:{n}")


def _names(patient: Patient) -> list[str]:
    return [name for name in (f"{patient.given_name} {patient.family_name}".strip(), patient.name_ar) if name]


def _birth(rng: random.Random, today: datetime.date, *, child: bool) -> tuple[datetime.date, bool]:
    """A birth date (children 2 to 14, adults 18 to 85); one in six adults knows only the year."""
    age_days = rng.randint(2 * 365, 14 * 365) if child else rng.randint(18 * 365, 85 * 365)
    born = today - datetime.timedelta(days=age_days)
    if not child and rng.random() < 0.17:
        return min(datetime.date(born.year, 7, 1), today), True  # as the form stores a year-only birth date
    return born, False


def _coverage(rng: random.Random, today: datetime.date) -> dict:
    """RAMED, AMO-Tadamon, AMO or none; one covered patient in ten has let it lapse."""
    kind = rng.choices(["ramed", "amo_tadamon", "amo", "none"], [30, 35, 15, 20])[0]
    if kind == "none":
        return {"coverage_type": kind}
    start = today - datetime.timedelta(days=rng.randint(200, 1500))
    lapsed = rng.random() < 0.1
    until = today - datetime.timedelta(days=rng.randint(10, 150)) if lapsed else \
        today + datetime.timedelta(days=rng.randint(60, 900))
    return {"coverage_type": kind, "coverage_number": f"{kind[:3].upper()}-{rng.randint(100000, 999999)}",
            "coverage_valid_from": min(start, until), "coverage_valid_until": until}


def plan_demo_patients(sites: dict[str, Site], today: datetime.date) -> list[DemoPatient]:
    """Every demo patient, the same on each run (dates that depend on ``today`` apply only when first created)."""
    rng = random.Random(SEED)
    planned = []
    for site_code, count in REGISTRATION_SITES:
        site = sites[site_code]
        for slot in range(count):
            pk = demo_id("patient", site_code, slot)
            gender = "female" if rng.random() < 0.55 else "male"
            given, given_ar = rng.choice(FEMALE_NAMES if gender == "female" else MALE_NAMES)
            family, family_ar = rng.choice(FAMILY_NAMES)
            script = rng.random()  # most are written in both scripts, some in one only
            names = {"given_name": given if script < 0.9 else "", "family_name": family if script < 0.9 else "",
                     "given_name_ar": given_ar if script > 0.15 else "",
                     "family_name_ar": family_ar if script > 0.15 else ""}
            child = rng.random() < 0.15
            birth_date, estimated = _birth(rng, today, child=child)
            # Children and a third of the adults have no national ID card number (CIN).
            has_cin = not child and rng.random() < 0.65
            cin = f"{rng.choice(CIN_LETTERS)}{100000 + len(planned) * 37 + 11}" if has_cin else None
            patient = Patient(
                id=pk, record_number=record_number_for(pk), gender=gender, birth_date=birth_date,
                birth_date_is_estimated=estimated, national_id=cin,
                phone=f"+2126{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.7 else "",
                commune_id=site.commune_id, address=rng.choice(DOUARS), registration_site=site,
                **names, **_coverage(rng, today))
            set_ranking_texts(patient, _names(patient))
            registered_on = today - datetime.timedelta(days=rng.randint(200, 400))
            planned.append(DemoPatient(patient, site_code, slot, registered_on, consents=rng.random() < 0.85))
    return planned


def _consent(planned: DemoPatient, rng: random.Random) -> Consent:
    on = planned.registered_on
    oral = rng.random() < 0.35
    return Consent(
        id=demo_id("consent", planned.site_code, planned.slot), patient=planned.patient,
        acts=ALL_ACTS if rng.random() < 0.6 else ["data_sharing", "teleconsultation", "teleexpertise"],
        method=Consent.Method.ORAL if oral else Consent.Method.SIGNED_PAPER,
        witness_name=f"{rng.choice(MALE_NAMES + FEMALE_NAMES)[0]} {rng.choice(FAMILY_NAMES)[0]}" if oral else "",
        obtained_by_id=staff_id(planned.site_code, Role.NURSE), site=planned.patient.registration_site,
        obtained_at=datetime.datetime.combine(on, datetime.time(9, 30), tzinfo=datetime.timezone.utc),
        period_start=on)


def create_demo_patients(planned: list[DemoPatient]) -> dict[str, int]:
    """Insert the planned patients not stored yet, with their name keys and consents; returns what was added."""
    stored = set(Patient.objects.filter(pk__in=[p.patient.pk for p in planned]).values_list("pk", flat=True))
    new = [p for p in planned if p.patient.pk not in stored]
    Patient.objects.bulk_create([p.patient for p in new], batch_size=500)
    PatientNameToken.objects.bulk_create(
        [PatientNameToken(patient=p.patient, key=key, site_id=p.patient.registration_site_id)
         for p in new for key in sorted(name_keys_of(_names(p.patient)))],
        batch_size=1000)
    rng = random.Random(SEED + 1)
    consents = [_consent(p, rng) for p in planned if p.consents]  # planned for all, so that draws stay the same
    new_ids = {p.patient.pk for p in new}
    Consent.objects.bulk_create([c for c in consents if c.patient_id in new_ids], batch_size=500)
    return {"patients": len(new), "consents": sum(1 for c in consents if c.patient_id in new_ids)}
