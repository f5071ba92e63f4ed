"""Patients (FHIR Patient) and their consent to telemedicine (FHIR Consent)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caravane.core.models import RestrictedQuerySet, UUIDModel


class PatientQuerySet(RestrictedQuerySet):
    _scope_needs_distinct = True

    def scope_filter(self, scope, action):
        # A patient belongs to the sites that registered or saw them.
        return scope.site_q("registration_site") | scope.site_q("encounters__site")


class Patient(UUIDModel):
    """A person cared for by the network (FHIR Patient)."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    record_number = models.CharField(max_length=20, unique=True, help_text=_("Network-wide record number"))
    given_name = models.CharField(max_length=80, blank=True)
    family_name = models.CharField(max_length=80, blank=True)
    given_name_ar = models.CharField(max_length=80, blank=True)
    family_name_ar = models.CharField(max_length=80, blank=True)
    gender = models.CharField(max_length=8, choices=Gender.choices)
    birth_date = models.DateField(null=True, blank=True)
    birth_date_is_estimated = models.BooleanField(default=False)
    registration_site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="registered_patients")
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from")

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                name="patient_has_a_name",
                condition=~Q(given_name="", family_name="", given_name_ar="", family_name_ar=""),
            )
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        latin = f"{self.given_name} {self.family_name}".strip()
        arabic = f"{self.given_name_ar} {self.family_name_ar}".strip()
        return latin or arabic
