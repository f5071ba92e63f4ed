"""Patients (FHIR Patient) and their consent to telemedicine (FHIR Consent)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import get_language, gettext_lazy as _

from caravane.core.models import RestrictedQuerySet, UUIDModel
from caravane.core.text import CONTACT_NAME_MAX, NAME_MAX, PLACE_MAX, NameField, ShortTextField
from caravane.patients.identifiers import format_phone, format_record_number, record_number_for


def seen_in_scope(scope, patient: str) -> Exists:
    """Whether the patient at ``patient`` (an outer field path) had a visit at a site of ``scope``.

    A correlated EXISTS, not ``IN (subquery)``: PostgreSQL probes the (site, patient) index of visits for a
    few rows and hashes the site's visits only for many, where an IN beside an OR always hashes them all.
    """
    encounter = Patient._meta.get_field("encounters").related_model
    return Exists(encounter.objects.filter(scope.site_q("site"), patient_id=OuterRef(patient)))


class PatientQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, action):
        # A patient belongs to the sites that registered or saw them. The visits are a subquery, not a
        # join, so that no DISTINCT is needed and a LIMIT can stop early (search at national scale).
        return scope.site_q("registration_site") | Q(seen_in_scope(scope, "pk"))


class Patient(UUIDModel):
    """A person cared for by the network (FHIR Patient)."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class Coverage(models.TextChoices):
        NONE = "none", _("None")
        RAMED = "ramed", _("RAMED")
        AMO_TADAMON = "amo_tadamon", _("AMO-Tadamon")
        AMO = "amo", _("AMO")

    record_number = models.CharField(max_length=20, unique=True, help_text=_("Network-wide record number"))
    given_name = NameField(_("given name"), max_length=NAME_MAX, blank=True)
    family_name = NameField(_("family name"), max_length=NAME_MAX, blank=True)
    given_name_ar = NameField(_("given name (Arabic)"), max_length=NAME_MAX, blank=True)
    family_name_ar = NameField(_("family name (Arabic)"), max_length=NAME_MAX, blank=True)
    gender = models.CharField(_("sex"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    birth_date_is_estimated = models.BooleanField(default=False)
    national_id = models.CharField(_("national ID (CIN)"), max_length=8, null=True, blank=True, unique=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True, db_index=True)
    commune = models.ForeignKey("geo.Commune", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="patients", verbose_name=_("commune"))
    address = NameField(_("douar or address"), max_length=PLACE_MAX, blank=True)
    emergency_contact_name = NameField(_("emergency contact"), max_length=CONTACT_NAME_MAX, blank=True)
    emergency_contact_relation = ShortTextField(_("relation"), max_length=60, blank=True)
    emergency_contact_phone = models.CharField(_("emergency contact phone"), max_length=16, blank=True)
    coverage_type = models.CharField(_("coverage"), max_length=12, choices=Coverage.choices, default=Coverage.NONE)
    coverage_number = models.CharField(_("coverage number"), max_length=40, blank=True)
    coverage_valid_from = models.DateField(_("coverage valid from"), null=True, blank=True)
    coverage_valid_until = models.DateField(_("coverage valid until"), null=True, blank=True)
    registration_site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="registered_patients")
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from")
    # Latin rendering of every name this record answers to (its own and merged records'), for ranking.
    search_text = models.CharField(max_length=400, blank=True, editable=False)
    # The same names as search keys (see caravane.patients.names), so ranking does not recompute them.
    search_keys = models.CharField(max_length=400, blank=True, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                name="patient_has_a_name",
                condition=~Q(given_name="", family_name="", given_name_ar="", family_name_ar=""),
            ),
            models.CheckConstraint(
                name="patient_coverage_dates_ordered",
                condition=Q(coverage_valid_from__isnull=True) | Q(coverage_valid_until__isnull=True)
                | Q(coverage_valid_until__gte=models.F("coverage_valid_from")),
            ),
            models.CheckConstraint(name="patient_not_merged_into_itself", condition=~Q(merged_into=models.F("id"))),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        if not self.record_number:
            self.record_number = record_number_for(self.pk)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """The name in the reader's script: the Arabic one on Arabic pages when recorded, else the Latin one."""
        latin = f"{self.given_name} {self.family_name}".strip()
        arabic = self.name_ar
        if arabic and get_language() == "ar":
            return arabic
        return latin or arabic

    @property
    def name_ar(self) -> str:
        return f"{self.given_name_ar} {self.family_name_ar}".strip()

    @property
    def name_aside(self) -> str:
        """The name in the other script, to print beside the display name (empty when only one is recorded)."""
        latin, arabic = f"{self.given_name} {self.family_name}".strip(), self.name_ar
        if not (latin and arabic):
            return ""
        return latin if self.display_name == arabic else arabic

    @property
    def name_aside_lang(self) -> str:
        """The language tag of ``name_aside`` (its script decides its direction)."""
        return "ar" if self.name_aside == self.name_ar else "fr"

    @property
    def record_number_display(self) -> str:
        return format_record_number(self.record_number) if len(self.record_number) == 17 else self.record_number

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def emergency_contact_phone_display(self) -> str:
        return format_phone(self.emergency_contact_phone)

    @property
    def birth_year(self):
        return self.birth_date.year if self.birth_date else None


class PatientNameToken(models.Model):
    """One search key of a patient's name: a word's key, or two words' keys together (see ``names``).

    Only records in use carry keys: a merged record's names are keyed on the record it was merged into.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="name_tokens")
    key = models.CharField(max_length=50)
    # The patient's registration site, copied so that a scoped search narrows by site within the index.
    site = models.ForeignKey("network.Site", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "patient"], name="patient_name_token_unique")]
        indexes = [models.Index(fields=["key", "site", "patient"], name="patient_name_token_site")]

    def __str__(self):
        return self.key


class PatientMerge(UUIDModel):
    """The record of one merge: which record was folded into which, by whom, and both records as they were."""

    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_received")
    merged = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="merge")
    performed_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    reason = ShortTextField(max_length=240, blank=True)
    survivor_before = models.JSONField()
    merged_before = models.JSONField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.merged_id} -> {self.survivor_id}"


class ConsentQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, action):
        return scope.site_q("patient__registration_site") | Q(seen_in_scope(scope, "patient_id"))


class Consent(UUIDModel):
    """A patient's consent to telemedicine acts (FHIR Consent); never changed, only revoked by a new row."""

    class Act(models.TextChoices):
        # The five acts of decree 2-18-378, and the sharing of the record with the network.
        TELECONSULTATION = "teleconsultation", _("teleconsultation")
        TELEEXPERTISE = "teleexpertise", _("tele-expertise")
        TELEMONITORING = "telemonitoring", _("remote monitoring")
        TELEASSISTANCE = "teleassistance", _("remote assistance")
        MEDICAL_RESPONSE = "medical_response", _("medical response")
        DATA_SHARING = "data_sharing", _("data sharing")
        # What a live call may keep of the patient: photos taken from the video, and (where the deployment
        # allows it) the recording of the call.
        PHOTOS = "photos", _("photos taken during a call")
        RECORDING = "recording", _("recording of a call")

    class Method(models.TextChoices):
        ORAL = "oral", _("Oral, before a witness")
        SIGNED_PAPER = "signed_paper", _("Signed paper form")
        SCANNED = "scanned", _("Scanned document")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    acts = models.JSONField(help_text=_("The acts consented to (provision.action)"))
    method = models.CharField(_("how it was obtained"), max_length=16, choices=Method.choices)
    witness_name = NameField(_("witness name"), max_length=CONTACT_NAME_MAX, blank=True)
    document = models.FileField(_("document"), upload_to="consents/%Y/%m/", blank=True)
    obtained_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="consents_obtained")
    obtained_at = models.DateTimeField(_("obtained at"))
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    period_start = models.DateField(_("valid from"))
    period_end = models.DateField(_("valid until"), null=True, blank=True)
    note = ShortTextField(_("note"), max_length=240, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-obtained_at"]
        constraints = [
            models.CheckConstraint(name="consent_period_ordered",
                                   condition=Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start"))),
            models.CheckConstraint(name="consent_oral_has_witness",
                                   condition=~Q(method="oral") | ~Q(witness_name="")),
        ]

    def __str__(self):
        return f"{self.patient_id}: {', '.join(self.acts)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("A consent is never changed: revoke it and record a new one.")
        super().save(*args, **kwargs)

    DOCUMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png")
    DOCUMENT_MAX_BYTES = 10 * 1024 * 1024

    def clean(self):
        errors = {}
        if not isinstance(self.acts, list) or not self.acts:
            errors["acts"] = _("Choose at least one act the patient consents to.")
        elif any(act not in self.Act.values for act in self.acts):
            errors["acts"] = _("Unknown telemedicine act.")
        if self.method == self.Method.ORAL and not (self.witness_name or "").strip():
            errors["witness_name"] = _("An oral consent needs the name of its witness.")
        if self.method == self.Method.SCANNED and not self.document:
            errors["document"] = _("Attach the scanned consent document.")
        if self.document:
            if not self.document.name.lower().endswith(self.DOCUMENT_TYPES):
                errors["document"] = _("The document must be a PDF, JPEG or PNG file.")
            elif self.document.size > self.DOCUMENT_MAX_BYTES:
                errors["document"] = _("The document is larger than 10 MB.")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("The end of validity comes before its start.")
        if errors:
            raise ValidationError(errors)

    def act_labels(self) -> list[str]:
        labels = dict(self.Act.choices)
        return [str(labels.get(act, act)) for act in self.acts]

    def status_on(self, day) -> str:
        """FHIR Consent.status on ``day``: active, inactive (revoked or lapsed) or not yet active."""
        revocation = getattr(self, "revocation", None)
        if revocation is not None and revocation.revoked_on <= day:
            return "inactive"
        if day < self.period_start:
            return "proposed"
        if self.period_end is not None and day > self.period_end:
            return "inactive"
        return "active"


class ConsentRevocation(UUIDModel):
    """The withdrawal of a consent, effective from ``revoked_on``: a new row, the consent itself is kept."""

    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="revocation")
    revoked_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    revoked_on = models.DateField()
    reason = ShortTextField(_("reason"), max_length=240, blank=True)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("A revocation is never changed.")
        super().save(*args, **kwargs)

    def __str__(self):
        return f"revocation of {self.consent_id}"
