"""Observation: vital signs after the HL7 Vital Signs profile (LOINC codes, UCUM quantities).

Blood pressure is stored as two rows (systolic, diastolic) of the LOINC panel 85354-9; it is served as one
panel Observation with two components, under the systolic row's id. A create records signs through
``do_record_vitals``: the same plausibility limits as the nurse's form. A value a connected device measured names
the Device and carries the SHA-256 of the device's payload (extension ``systems.PAYLOAD_SHA256``).

ECGs (diagnostics' EcgRecording, LOINC 11524-6) are Observations too, under their own ids: a read finds either
model, and a search whose ``code`` names only 11524-6 lists ECGs (``EcgObservation``), any other lists vital signs.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from caravane.care import actions, vitals
from caravane.care.models import Observation
from caravane.core.access import Perm
from caravane.diagnostics import api as diagnostics_api
from caravane.diagnostics.models import EcgRecording
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.errors import FhirError, Issue, Unkept
from caravane.fhir.server.resource import REGISTRY, Include, Resource, clean, reference, referenced_id, register

PANEL, PANEL_DISPLAY = vitals.BLOOD_PRESSURE_PANEL
SYSTOLIC, DIASTOLIC = vitals.BY_KEY["systolic"], vitals.BY_KEY["diastolic"]
# A measurement is recorded as it is taken: a time further from the server's clock is refused.
CLOCK_TOLERANCE = datetime.timedelta(minutes=15)
KEPT = {"resourceType", "id", "meta", "text", "status", "category", "code", "subject", "encounter", "effectiveDateTime",
        "valueQuantity", "component", "performer"}


def _number(value: Decimal):
    return int(value) if value == value.to_integral() else float(value)


def _quantity(value: Decimal, unit: str) -> dict:
    return {"value": _number(value), "unit": vitals.UNIT_SYMBOLS.get(unit, unit), "system": systems.UCUM,
            "code": unit}


def _code_q(value: str) -> Q:
    system, bar, code = value.rpartition("|")
    if bar and system and system not in (systems.LOINC, vitals.LOCAL_SYSTEM):
        return Q(pk__in=[])
    if code == PANEL:
        return Q(code=SYSTOLIC.code, panel=PANEL)
    return Q(code=code) & ~Q(panel=PANEL)


# Every row: an empty Q() would vanish when a parameter ORs its comma-separated values together.
EVERY = Q(pk__isnull=False)


def _category_q(value: str) -> Q:
    return EVERY if value.rpartition("|")[2] == "vital-signs" else Q(pk__in=[])


def _ecg_code_q(value: str) -> Q:
    system, bar, code = value.rpartition("|")
    return EVERY if code == EcgRecording.LOINC and (not bar or not system or system == systems.LOINC) else Q(pk__in=[])


def _ecg_category_q(value: str) -> Q:
    return EVERY if value.rpartition("|")[2] == "procedure" else Q(pk__in=[])


def _asks_for_ecgs(query) -> bool:
    """Whether every ``code`` of the search names the ECG (11524-6) alone."""
    codes = [one for value in query.getlist("code") for one in value.split(",")]
    return bool(codes) and all(code.rpartition("|")[2] == EcgRecording.LOINC for code in codes)


def _ecg_id(pk) -> bool:
    """Whether ``pk`` is an ECG's id (ids are UUIDv7: an ECG and a vital sign never share one)."""
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        return False
    return EcgRecording.objects.filter(pk=key).exists() and not Observation.objects.filter(pk=key).exists()


class EcgObservation(Resource):
    """An ECG as an Observation (LOINC 11524-6): one component per lead with its samples as SampledData.

    Not registered on its own: ``ObservationResource`` serves it (reads by id, searches by code).
    """

    type = "Observation"
    model = EcgRecording
    perm = Perm.VIEW_DIAGNOSTIC
    read_action, search_action = "diagnostics.view_ecg", "diagnostics.view_ecg"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient recorded"),
        "encounter": search.reference("encounter", "Encounter", "The visit it was recorded in"),
        "code": search.custom("token", "LOINC 11524-6 (EKG study)", _ecg_code_q),
        "category": search.custom("token", "procedure", _ecg_category_q),
        "date": search.date("effective_at", "When it was recorded"),
        "device": search.reference("device", "Device", "The electrocardiograph"),
    }
    versioned = True
    site_paths = ("encounter__site", "act__requesting_site")

    @classmethod
    def last_changed(cls, ecg):
        return ecg.created_at  # append-only

    @classmethod
    def last_updated(cls):
        return F("created_at")

    @classmethod
    def render(cls, ecg: EcgRecording, ctx) -> dict:
        body = diagnostics_api.observation(ecg, with_data=True)
        del body["resourceType"], body["id"]
        body["category"] = [systems.coding(systems.OBSERVATION_CATEGORY, "procedure", "Procedure")]
        if ecg.recorded_by_id:
            body["performer"] = [reference("Practitioner", ecg.recorded_by_id)]
        return clean(body)


@register
class ObservationResource(Resource):
    type = "Observation"
    site_paths = ("encounter__site",)
    model = Observation
    perm = Perm.VIEW_CHART
    read_action, search_action = "care.view_chart", "care.view_chart"
    profile = systems.VITAL_SIGNS_PROFILE
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient measured"),
        "encounter": search.reference("encounter", "Encounter", "The visit it was measured in"),
        "code": search.custom("token", "LOINC code (85354-9 for the blood pressure panel)", _code_q),
        "category": search.custom("token", "vital-signs (every observation served is one)", _category_q),
        "date": search.date("effective_at", "When it was measured"),
        "device": search.reference("device_id", "Device", "The connected device that measured it"),
    }
    includes = {
        "Observation:patient": Include("Patient", "patient_id"),
        "Observation:subject": Include("Patient", "patient_id"),
        "Observation:encounter": Include("Encounter", "encounter_id"),
    }
    create_perm, create_action = Perm.RECORD_VITALS, "care.record_vitals"

    versioned = True

    @classmethod
    def last_changed(cls, row):
        return row.created_at  # never changed

    @classmethod
    def last_updated(cls):
        return F("created_at")

    @classmethod
    def exported(cls):
        return (cls, EcgObservation)

    @classmethod
    def queryset(cls):
        # A diastolic value is a component of its panel, not a resource of its own.
        return Observation.objects.exclude(code=DIASTOLIC.code, panel=PANEL)

    @classmethod
    def searched(cls, query):
        return EcgObservation if _asks_for_ecgs(query) else cls

    @classmethod
    def read(cls, ctx, pk):
        return ctx.fetch(EcgObservation if _ecg_id(pk) else cls, pk)

    @classmethod
    def render_many(cls, objs, ctx) -> list[dict]:
        ecg_rows = [o for o in objs if isinstance(o, EcgRecording)]
        vital_rows = [o for o in objs if not isinstance(o, EcgRecording)]
        bodies = dict(zip((o.pk for o in ecg_rows), EcgObservation.render_many(ecg_rows, ctx)))
        bodies.update(zip((o.pk for o in vital_rows), cls._render_vitals(vital_rows, ctx)))
        return [bodies[o.pk] for o in objs]

    @classmethod
    def _render_vitals(cls, objs, ctx) -> list[dict]:
        panels = [o for o in objs if o.panel == PANEL]
        diastolic = {}
        if panels:
            rows = Observation.objects.filter(encounter_id__in={o.encounter_id for o in panels}, code=DIASTOLIC.code,
                                              panel=PANEL, effective_at__in={o.effective_at for o in panels})
            diastolic = {(row.encounter_id, row.effective_at): row for row in rows}
        return [cls._panel(o, diastolic.get((o.encounter_id, o.effective_at)), ctx) if o.panel == PANEL
                else cls.as_fhir(o, ctx) for o in objs]

    @classmethod
    def _panel(cls, systolic: Observation, diastolic: Observation | None, ctx) -> dict:
        body = cls.as_fhir(systolic, ctx)
        body["meta"]["profile"] = [systems.BP_PROFILE]
        body["code"] = {"coding": [{"system": systems.LOINC, "code": PANEL, "display": PANEL_DISPLAY}],
                        "text": "Blood pressure"}
        body.pop("valueQuantity")
        body.pop("interpretation", None)
        body["component"] = [cls._component(row) for row in (systolic, diastolic) if row is not None]
        return body

    @classmethod
    def _component(cls, row: Observation) -> dict:
        return clean({"code": {"coding": [{"system": row.system, "code": row.code, "display": row.display}]},
                      "valueQuantity": _quantity(row.value, row.unit), "interpretation": cls._interpretation(row)})

    @staticmethod
    def _interpretation(row: Observation) -> list[dict]:
        if not row.interpretation:
            return []
        return [systems.coding(systems.INTERPRETATION, row.interpretation,
                               vitals.INTERPRETATION_LABELS[row.interpretation])]

    @classmethod
    def render(cls, row: Observation, ctx) -> dict:
        return clean({
            "status": "final",
            "category": [{"coding": [{"system": systems.OBSERVATION_CATEGORY, "code": "vital-signs",
                                      "display": "Vital Signs"}], "text": "Vital Signs"}],
            "code": {"coding": [{"system": row.system, "code": row.code, "display": row.display}], "text": row.display},
            "subject": reference("Patient", row.patient_id), "encounter": reference("Encounter", row.encounter_id),
            "effectiveDateTime": row.effective_at.isoformat(),
            "performer": [reference("Practitioner", row.recorder_id)],
            "valueQuantity": _quantity(row.value, row.unit), "interpretation": cls._interpretation(row),
            "device": {"reference": f"Device/{row.device_id}", "display": row.device_display}
            if row.device_id else None,
            "extension": [{"url": systems.PAYLOAD_SHA256, "valueString": row.payload_sha256}]
            if row.payload_sha256 else [],
        })

    @classmethod
    def create(cls, ctx, body: dict):
        """Record the vital sign (or blood pressure panel) the body carries, in the visit it names."""
        ctx.require(Perm.RECORD_VITALS, ("care.encounter", ""), audit_action="care.record_vitals")
        unkept = Unkept(ctx)
        unkept.elements(body, KEPT)
        unkept.settle()
        if body.get("status") != "final":
            raise FhirError(422, "business-rule", _("A vital sign is recorded as measured: status must be “final”."),
                            expression=["Observation.status"])
        encounter_id = referenced_id(body.get("encounter"), "Encounter")
        if encounter_id is None:
            raise FhirError(422, "required", _("Observation.encounter must refer to the visit (Encounter) the sign was measured in: "
                              "vital signs are recorded during a visit."),
                            expression=["Observation.encounter"])
        encounter = ctx.fetch(REGISTRY["Encounter"], encounter_id, perm=Perm.RECORD_VITALS,
                              audit_action="care.record_vitals")
        if referenced_id(body.get("subject"), "Patient") != str(encounter.patient_id):
            raise FhirError(422, "business-rule", _("Observation.subject must be the patient of the encounter."),
                            expression=["Observation.subject"])
        _check_time(body.get("effectiveDateTime"))
        values = _values(body)
        try:
            rows = actions.do_record_vitals(actor=ctx.user, encounter=encounter, values=values)
        except vitals.VitalsError as error:
            issues = [Issue("value", message, expression=["Observation"]) for message in error.errors.values()]
            raise FhirError(422, "value", issues[0].diagnostics, issues=issues) from None
        wanted = SYSTOLIC.code if "systolic" in values else vitals.BY_KEY[next(iter(values))].code
        return next(row for row in rows if row.code == wanted)


def _check_time(value) -> None:
    if value is None:
        return
    instant = parse_datetime(str(value))
    if instant is None or timezone.is_naive(instant) or abs(instant - timezone.now()) > CLOCK_TOLERANCE:
        raise FhirError(422, "business-rule", _("Vital signs are recorded as they are measured: effectiveDateTime must be now (with its "
                          "time zone), or left out."), expression=["Observation.effectiveDateTime"])


def _loinc(concept: dict | None, expression: str) -> str:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == systems.LOINC and coding.get("code"):
            return coding["code"]
    raise FhirError(422, "code-invalid", _("A LOINC code (system http://loinc.org) is required."), expression=[expression])


def _value(sign: vitals.VitalSign, quantity: dict | None, expression: str) -> str:
    quantity = quantity or {}
    if quantity.get("system") != systems.UCUM or quantity.get("code") != sign.unit:
        raise FhirError(422, "value", _("%(sign)s: the value must be a UCUM quantity in %(unit)s (system %(system)s, code %(unit)s).") % {
            "sign": sign.label, "unit": sign.unit, "system": systems.UCUM}, expression=[expression])
    if not isinstance(quantity.get("value"), (int, float)):
        raise FhirError(422, "value", _("%(sign)s: the quantity has no value.") % {"sign": sign.label}, expression=[expression])
    return str(quantity["value"])


def _values(body: dict) -> dict:
    """The nurse form's values the Observation carries: one sign, or a blood pressure panel's two components."""
    code = _loinc(body.get("code"), "Observation.code")
    if code == PANEL:
        values = {}
        for index, component in enumerate(body.get("component") or []):
            where = f"Observation.component[{index}]"
            sign = vitals.BY_CODE.get(_loinc(component.get("code"), where + ".code"))
            if sign not in (SYSTOLIC, DIASTOLIC):
                raise FhirError(422, "code-invalid", _("A blood pressure panel has systolic (8480-6) and "
                                                       "diastolic (8462-4) components."), expression=[where])
            values[sign.key] = _value(sign, component.get("valueQuantity"), where + ".valueQuantity")
        return values
    sign = vitals.BY_CODE.get(code)
    if sign is None or not sign.entered or sign.panel:
        recorded = ", ".join(f"{s.code} ({s.display})" for s in vitals.ENTERED if not s.panel)
        raise FhirError(422, "code-invalid", _("LOINC %(code)s is not a vital sign recorded here; recorded are "
                                               "%(panel)s (blood pressure panel), %(recorded)s.") % {
            "code": code, "panel": PANEL, "recorded": recorded}, expression=["Observation.code"])
    return {sign.key: _value(sign, body.get("valueQuantity"), "Observation.valueQuantity")}
