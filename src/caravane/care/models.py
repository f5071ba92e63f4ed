"""Visits and what happens in them, with FHIR names: Encounter, Observation, Condition, MedicationRequest.

A visit's note is signed when the visit closes; from then on the encounter and everything recorded in
it are frozen, and corrections are appended as amendments (each with its reason).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caravane.care import allergens, dosage
from caravane.core.models import AppendOnly, ImmutableRecordError, RestrictedQuerySet, UUIDModel
from caravane.core.text import NOTE_MAX, SHORT_TEXT_MAX, FreeTextField, ShortTextField
from caravane.patients.models import seen_in_scope


class EncounterQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, action):
        return scope.site_q("site")


class ClinicalQuerySet(RestrictedQuerySet):
    """Records that belong to an encounter are in scope with their encounter's site."""

    def scope_filter(self, scope, action):
        return scope.site_q("encounter__site")


class Encounter(UUIDModel):
    """One visit of a patient to a site (or a mobile unit's stop) on a day (FHIR Encounter)."""

    class Status(models.TextChoices):
        CHECKED_IN = "checked_in", _("Waiting")
        WITH_NURSE = "with_nurse", _("With the nurse")
        WITH_GP = "with_gp", _("With the GP")
        DONE = "done", _("Done")

    class Priority(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency")
        URGENT = "urgent", _("Urgent")
        STANDARD = "standard", _("Standard")

    PRIORITY_ORDER = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.STANDARD: 2}

    class Coverage(models.TextChoices):
        ACTIVE = "active", _("Covered")
        LAPSED = "lapsed", _("Coverage lapsed")
        NONE = "none", _("No coverage")
        UNKNOWN = "unknown", _("Coverage unknown")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="encounters")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="encounters")
    stop_commune = models.ForeignKey(
        "geo.Commune", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Mobile units: the commune of the day's stop"))
    service_date = models.DateField(db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CHECKED_IN, db_index=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.STANDARD)
    coverage_status = models.CharField(max_length=10, choices=Coverage.choices, default=Coverage.UNKNOWN)
    checked_in_at = models.DateTimeField()
    nurse_started_at = models.DateTimeField(null=True, blank=True)
    gp_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    nurse = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    practitioner = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    # The GP's note (SOAP), signed on closing.
    reason = FreeTextField(_("reason for visit"), max_length=NOTE_MAX, blank=True)
    history = FreeTextField(_("history"), max_length=NOTE_MAX, blank=True)
    examination = FreeTextField(_("examination"), max_length=NOTE_MAX, blank=True)
    assessment = FreeTextField(_("assessment"), max_length=NOTE_MAX, blank=True)
    plan = FreeTextField(_("plan"), max_length=NOTE_MAX, blank=True)
    referral_to = models.ForeignKey("network.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    referral_letter = FreeTextField(_("referral letter"), max_length=NOTE_MAX, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")

    objects = EncounterQuerySet.as_manager()

    class Meta:
        ordering = ["service_date", "checked_in_at"]
        indexes = [
            models.Index(fields=["site", "service_date", "status"]),
            # The patients a site has seen (part of its staff's scope), read from the index alone.
            models.Index(fields=["site", "patient"], name="encounter_site_patient"),
        ]
        constraints = [
            models.CheckConstraint(name="encounter_signed_when_done",
                                   condition=Q(status="done", signed_at__isnull=False) | ~Q(status="done")),
            # One open visit per patient, site and day, even when two check-ins race.
            models.UniqueConstraint(fields=["patient", "site", "service_date"], condition=~Q(status="done"),
                                    name="one_open_encounter_per_patient_site_day"),
        ]

    def __str__(self):
        return f"{self.patient} @ {self.site} {self.service_date}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def save(self, *args, **kwargs):
        # The note is frozen once signed: checked against the stored row, not the (possibly stale) instance.
        if not self._state.adding and Encounter.objects.filter(pk=self.pk, signed_at__isnull=False).exists():
            raise ImmutableRecordError("This visit's note is signed; record an amendment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Visits are never deleted.")


class EncounterRecord(UUIDModel):
    """Base of what is recorded during a visit: frozen once the visit is signed, never deleted."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT)
    recorder = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["created_at"]

    def save(self, *args, **kwargs):
        if Encounter.objects.filter(pk=self.encounter_id, signed_at__isnull=False).exists():
            raise ImmutableRecordError("This visit is signed; record an amendment instead.")
        if not self._state.adding:
            raise ImmutableRecordError("Clinical records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Clinical records are never deleted.")


class Retractable(EncounterRecord):
    """A visit record the GP may withdraw (entered in error, or replaced by a corrected one) until the visit closes.

    The row itself stays: only its FHIR status changes, once, through ``retract``; the correction is a new row
    pointing at it.
    """

    STATUS_FIELD = ""
    ACTIVE = ""

    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta(EncounterRecord.Meta):
        abstract = True

    @property
    def is_active(self) -> bool:
        return getattr(self, self.STATUS_FIELD) == self.ACTIVE

    def retract(self, status: str, by, at) -> None:
        """Set the withdrawn status once, on an unsigned visit (the only change such a row ever takes)."""
        changed = type(self).objects.filter(
            pk=self.pk, encounter__signed_at__isnull=True, **{self.STATUS_FIELD: self.ACTIVE},
        ).update(**{self.STATUS_FIELD: status, "retracted_at": at, "retracted_by": by})
        if not changed:
            raise ImmutableRecordError("Only an active record of an unsigned visit can be withdrawn.")
        setattr(self, self.STATUS_FIELD, status)
        self.retracted_at, self.retracted_by = at, by


class Observation(EncounterRecord):
    """One measured or computed vital sign (FHIR Observation, category vital-signs)."""

    code = models.CharField(max_length=32, help_text=_("LOINC code (or a local code for computed scores)"))
    system = models.CharField(max_length=60, default="http://loinc.org")
    display = models.CharField(max_length=120)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(max_length=16, help_text=_("UCUM unit"))
    interpretation = models.CharField(max_length=2, blank=True, help_text=_("FHIR ObservationInterpretation code"))
    panel = models.CharField(max_length=16, blank=True, help_text=_("LOINC panel the value belongs to"))
    effective_at = models.DateTimeField()
    # Provenance of a value a connected device measured (FHIR Observation.device). Care sits below the devices
    # app, so the device is named by its UUID and a display string, not a foreign key: care stays importable
    # and testable without it, and the display keeps what the nurse saw even if the registry entry changes.
    device_id = models.UUIDField(null=True, blank=True, help_text=_("The connected device that measured the value"))
    device_display = models.CharField(max_length=200, blank=True)
    payload_sha256 = models.CharField(max_length=64, blank=True,
                                      help_text=_("SHA-256 of the device's raw payload the value was decoded from"))

    class Meta(EncounterRecord.Meta):
        default_related_name = "observations"
        ordering = ["effective_at", "code"]
        indexes = [models.Index(fields=["patient", "code", "effective_at"])]

    def __str__(self):
        return f"{self.display} {self.value} {self.unit}"

    @property
    def label(self) -> str:
        """The sign's name in the reader's language (the LOINC display is English)."""
        from caravane.care.vitals import BY_CODE

        sign = BY_CODE.get(self.code)
        return str(sign.label) if sign else self.display

    @property
    def unit_symbol(self) -> str:
        from caravane.care.vitals import UNIT_SYMBOLS

        return UNIT_SYMBOLS.get(self.unit, self.unit)


class Condition(Retractable):
    """A diagnosis made during a visit: an ICD-10 code and/or free text (FHIR Condition)."""

    class Verification(models.TextChoices):
        # FHIR Condition.verificationStatus (the two codes a visit uses).
        CONFIRMED = "confirmed", _("Confirmed")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    STATUS_FIELD, ACTIVE = "verification_status", Verification.CONFIRMED

    icd10_code = models.CharField(max_length=8, blank=True, db_index=True)
    icd10_label = models.CharField(max_length=255, blank=True)
    text = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)
    verification_status = models.CharField(max_length=16, choices=Verification.choices,
                                           default=Verification.CONFIRMED)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by", help_text=_("The diagnosis this one corrects"))

    class Meta(EncounterRecord.Meta):
        default_related_name = "conditions"
        constraints = [models.CheckConstraint(name="condition_is_coded_or_described",
                                              condition=~Q(icd10_code="", text=""))]

    def __str__(self):
        return " ".join(filter(None, [self.icd10_code, self.icd10_label or self.text]))


class MedicationRequest(Retractable):
    """A prescription line (FHIR MedicationRequest with one Dosage).

    The dose is a quantity and a unit, the timing a code (both translated when printed); ``dose`` and
    ``frequency`` hold free text (Dosage.text) for lines written before they were coded, or sent so by the API.
    """

    class Status(models.TextChoices):
        # FHIR MedicationRequest.status (the codes a visit uses).
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    STATUS_FIELD, ACTIVE = "status", Status.ACTIVE

    class Route(models.TextChoices):
        ORAL = "oral", _("Oral")
        SUBLINGUAL = "sublingual", _("Sublingual")
        INTRAVENOUS = "intravenous", _("Intravenous")
        INTRAMUSCULAR = "intramuscular", _("Intramuscular")
        SUBCUTANEOUS = "subcutaneous", _("Subcutaneous")
        TOPICAL = "topical", _("Topical")
        INHALED = "inhaled", _("Inhaled")
        RECTAL = "rectal", _("Rectal")
        OPHTHALMIC = "ophthalmic", _("Eye drops")

    medication = ShortTextField(max_length=160)
    dose_value = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    dose_unit = models.CharField(max_length=16, blank=True, choices=dosage.UNIT_CHOICES)
    dose = ShortTextField(max_length=60, blank=True, help_text=_("Free-text dose (uncoded lines)"))
    route = models.CharField(max_length=16, choices=Route.choices, default=Route.ORAL)
    timing = models.CharField(max_length=16, blank=True, choices=dosage.TIMING_CHOICES)
    frequency = ShortTextField(max_length=60, blank=True, help_text=_("Free-text frequency (uncoded lines)"))
    duration_days = models.PositiveSmallIntegerField()
    instructions = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    prior_prescription = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by",
        help_text=_("The line this one corrects (FHIR priorPrescription)"))

    class Meta(EncounterRecord.Meta):
        default_related_name = "medication_requests"
        constraints = [
            models.CheckConstraint(name="prescription_duration_positive",
                                   condition=Q(duration_days__gte=1, duration_days__lte=365)),
            models.CheckConstraint(name="prescription_has_dose",
                                   condition=Q(dose_value__isnull=False) & ~Q(dose_unit="") | ~Q(dose="")),
            models.CheckConstraint(name="prescription_has_timing", condition=~Q(timing="", frequency="")),
        ]

    def __str__(self):
        return f"{self.medication} {dosage.dose_text(self)} {dosage.timing_text(self)} × {self.duration_days} d"


class Amendment(AppendOnly):
    """A correction to a signed visit note, with its reason; appended, never changed."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    reason = ShortTextField(max_length=SHORT_TEXT_MAX)
    text = FreeTextField(max_length=NOTE_MAX)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Amendment of {self.encounter_id}: {self.reason}"


class AllergyQuerySet(RestrictedQuerySet):
    """A patient's allergies are in scope wherever the patient is: registered or seen at a site of the scope."""

    def scope_filter(self, scope, action):
        return scope.site_q("patient__registration_site") | Q(seen_in_scope(scope, "patient_id"))


class AllergyIntolerance(UUIDModel):
    """A patient's allergy or intolerance (FHIR AllergyIntolerance), or the statement "no known allergy".

    Patient-level, not tied to one visit. No row at all means "not recorded"; an active row coded
    ``allergens.NO_KNOWN_ALLERGY`` means that someone asked and the patient knows of none. Rows are never
    deleted: one recorded in error is marked so (verificationStatus), one no longer true changes clinical status.
    """

    class Criticality(models.TextChoices):
        LOW = "low", _("Low risk")
        HIGH = "high", _("High risk")
        UNABLE_TO_ASSESS = "unable-to-assess", _("Risk not assessed")

    class ClinicalStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        RESOLVED = "resolved", _("Resolved")

    class Verification(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Unconfirmed")
        CONFIRMED = "confirmed", _("Confirmed")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="allergies")
    # Where it was recorded, when during a visit (the chart records it outside any visit).
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    system = models.CharField(max_length=40, blank=True, help_text=_("Code system (SNOMED CT), empty when not coded"))
    code = models.CharField(max_length=20, blank=True, db_index=True)
    text = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True, help_text=_("The substance in words, when not coded"))
    category = models.CharField(max_length=12, choices=allergens.Category.choices, blank=True)
    criticality = models.CharField(max_length=16, choices=Criticality.choices, default=Criticality.UNABLE_TO_ASSESS)
    clinical_status = models.CharField(max_length=10, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE)
    verification_status = models.CharField(max_length=16, choices=Verification.choices,
                                           default=Verification.UNCONFIRMED)
    reaction = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True, help_text=_("What happened (manifestation)"))
    recorder = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+")

    objects = AllergyQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at"]
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")
        constraints = [models.CheckConstraint(name="allergy_is_coded_or_described", condition=~Q(code="", text=""))]

    def __str__(self):
        return self.label

    @property
    def is_no_known_allergy(self) -> bool:
        return self.code == allergens.NO_KNOWN_ALLERGY.code

    @property
    def is_current(self) -> bool:
        """Whether it still speaks of the patient: active and not recorded in error."""
        return (self.clinical_status == self.ClinicalStatus.ACTIVE
                and self.verification_status != self.Verification.ENTERED_IN_ERROR)

    @property
    def label(self) -> str:
        """The substance in the reader's language (the coded name), with the free text beside it."""
        allergen = allergens.BY_CODE.get(self.code)
        name = str(allergen.label) if allergen else ""
        return " · ".join(filter(None, [name, self.text]))

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError("An allergy's statement is never rewritten: change its status instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Allergies are never deleted.")

    def change_status(self, by, at, **statuses) -> None:
        """Change the clinical or verification status (the only change an allergy row takes)."""
        unknown = set(statuses) - {"clinical_status", "verification_status"}
        if unknown:
            raise TypeError(f"not a status: {sorted(unknown)}")
        type(self).objects.filter(pk=self.pk).update(status_changed_at=at, status_changed_by=by, **statuses)
        for name, value in statuses.items():
            setattr(self, name, value)
        self.status_changed_at, self.status_changed_by = at, by
