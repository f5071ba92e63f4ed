"""ECG recordings and examination photographs, filed for a patient in a visit or a telemedicine act.

An ECG is a FHIR Observation (LOINC 11524-6, EKG study) whose components are SampledData: one per lead, with its
gain (``factor`` = 1/gain) and baseline (``origin``). Its samples are kept as int16 little-endian bytes, lead
after lead, not as text. A photograph is a FHIR Media. Both are append-only: a wrong one is withdrawn by
recording another, never edited.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caravane.core.models import AppendOnly, RestrictedQuerySet
from caravane.telemed.models import act_scope_q


class DiagnosticQuerySet(RestrictedQuerySet):
    """A recording is in scope with its visit's site or its act."""

    def scope_filter(self, scope, perm):
        return scope.site_q("encounter__site") | (Q(act__isnull=False) & act_scope_q(scope, "act"))


class DiagnosticRecord(AppendOnly):
    """What an ECG and a photograph share: whose, where they were filed, the device, the source file and hash."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    encounter = models.ForeignKey("care.Encounter", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    act = models.ForeignKey("telemed.ServiceRequest", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="+")
    device = models.ForeignKey("devices.Device", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    effective_at = models.DateTimeField(_("taken"), help_text=_("When it was recorded or photographed"))
    filename = models.CharField(max_length=200, help_text=_("The name of the file as uploaded"))
    source_format = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64, db_index=True, help_text=_("SHA-256 of the source file(s)"))
    size = models.PositiveIntegerField()

    objects = DiagnosticQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-effective_at"]
        constraints = [models.CheckConstraint(name="%(class)s_filed_somewhere",
                                              condition=Q(encounter__isnull=False) | Q(act__isnull=False))]


def source_path(instance, filename: str) -> str:
    """Stored under the patient's id with the content's hash as name."""
    return f"diagnostics/{instance.patient_id}/{instance.sha256}.{filename.rsplit('.', 1)[-1]}"


class EcgRecording(DiagnosticRecord):
    """An ECG (FHIR Observation with SampledData): its leads' integer samples, or a print-out kept as a file."""

    class Source(models.TextChoices):
        WFDB = "wfdb", _("WFDB record")
        DICOM = "dicom", _("DICOM ECG waveform")
        PRINTOUT = "printout", _("ECG print-out (PDF or image)")

    LOINC = "11524-6"

    source = models.CharField(max_length=10, choices=Source.choices)
    file = models.FileField(upload_to=source_path, max_length=200, blank=True,
                            help_text=_("The print-out or DICOM file as received"))
    leads = models.JSONField(default=list)
    units = models.JSONField(default=list)
    gains = models.JSONField(default=list, help_text=_("Integer units per mV (or per unit), per lead"))
    baselines = models.JSONField(default=list)
    sampling_rate = models.FloatField(null=True, blank=True, help_text=_("Samples per second"))
    sample_count = models.PositiveIntegerField(default=0, help_text=_("Samples per lead"))
    samples = models.BinaryField(blank=True, help_text=_("int16 little-endian, lead after lead"))
    r_peaks = models.BinaryField(blank=True, help_text=_("Detected R peaks, int32 little-endian sample indices"))
    heart_rate = models.FloatField(null=True, blank=True, help_text=_("Beats per minute, computed"))
    rr_mean_ms = models.FloatField(null=True, blank=True)
    rr_min_ms = models.FloatField(null=True, blank=True)
    rr_max_ms = models.FloatField(null=True, blank=True)

    class Meta(DiagnosticRecord.Meta):
        verbose_name = _("ECG recording")

    def __str__(self):
        return f"ECG {self.effective_at:%Y-%m-%d %H:%M} ({self.filename})"

    @property
    def duration(self) -> float:
        """Seconds recorded (0 for a print-out)."""
        return self.sample_count / self.sampling_rate if self.sampling_rate else 0.0

    @property
    def has_samples(self) -> bool:
        return self.source != self.Source.PRINTOUT


class BodySite(models.TextChoices):
    """Where a photograph was taken (SNOMED CT body structures)."""

    HEAD = "69536005", _("Head")
    FACE = "89545001", _("Face")
    NECK = "45048000", _("Neck")
    CHEST = "51185008", _("Chest")
    ABDOMEN = "113345001", _("Abdomen")
    BACK = "77568009", _("Back")
    LEFT_ARM = "368208006", _("Left arm")
    RIGHT_ARM = "368209003", _("Right arm")
    LEFT_HAND = "85151006", _("Left hand")
    RIGHT_HAND = "78791008", _("Right hand")
    LEFT_LEG = "48979004", _("Left leg")
    RIGHT_LEG = "32696007", _("Right leg")
    LEFT_FOOT = "22335008", _("Left foot")
    RIGHT_FOOT = "7769000", _("Right foot")
    OTHER = "other", _("Other site")


def rendering_path(instance, filename: str) -> str:
    return f"diagnostics/{instance.patient_id}/{instance.sha256}-{filename}"


class ExaminationImage(DiagnosticRecord):
    """A dermatoscope or examination photograph (FHIR Media): the file as received, a rendering and a thumbnail."""

    body_site = models.CharField(_("body site"), max_length=12, choices=BodySite.choices)
    body_site_detail = models.CharField(_("where exactly"), max_length=120, blank=True)
    file = models.FileField(upload_to=source_path, max_length=200)
    rendering = models.FileField(upload_to=rendering_path, max_length=200, help_text=_("JPEG for the viewer"))
    thumbnail = models.FileField(upload_to=rendering_path, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    device_text = models.CharField(max_length=120, blank=True, help_text=_("The camera the file names"))

    class Meta(DiagnosticRecord.Meta):
        verbose_name = _("examination image")
        indexes = [models.Index(fields=["patient", "body_site", "effective_at"], name="diagnostics_image_site")]

    def __str__(self):
        return f"{self.get_body_site_display()} {self.effective_at:%Y-%m-%d}"
