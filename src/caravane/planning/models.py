"""Planning: imported health facilities, saved scenarios and the stops they plan for mobile units."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from caravane.core.access import Perm
from caravane.core.models import RestrictedQuerySet, UUIDModel


class FacilityKind(models.TextChoices):
    """Kinds of health facility the analysis measures distances to."""

    HOSPITAL = "hospital", _("Hospital")
    CLINIC = "clinic", _("Clinic")
    HEALTH_CENTRE = "health_centre", _("Health centre")
    DOCTORS = "doctors", _("Doctor's practice")
    DENTIST = "dentist", _("Dentist")
    PHARMACY = "pharmacy", _("Pharmacy")
    NETWORK_SITE = "network_site", _("Caravane network site")


class PublicDataQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        # Facility lists are public data: anyone who may plan reads them; imports are national.
        return None if perm == Perm.VIEW_PLAN else (None if scope.national else models.Q(pk__in=[]))


class FacilityImport(UUIDModel):
    """One imported facility list: its source, what was kept and every rejected row with the reason."""

    source = models.CharField(max_length=80, help_text=_("Name of the list; a new import replaces its facilities"))
    filename = models.CharField(max_length=200, blank=True)
    file_format = models.CharField(max_length=12)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, help_text="[{row, reason}] for each refused row")

    objects = PublicDataQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source} ({self.accepted})"


class Facility(UUIDModel):
    """A health facility point from an imported list."""

    source_import = models.ForeignKey(FacilityImport, on_delete=models.CASCADE, related_name="facilities")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=FacilityKind.choices, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    external_id = models.CharField(max_length=40, blank=True)

    objects = PublicDataQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self):
        return self.name


class ScenarioQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        # Plans are read by every coordinator; only their author (or a national user) changes one.
        if perm == Perm.VIEW_PLAN:
            return None
        return models.Q(created_by_id=scope.user_id)


class Scenario(UUIDModel):
    """One planning run: its inputs, parameters, results and timings, kept to compare and apply."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        APPLIED = "applied", _("Applied")

    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="planning_scenarios")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    progress_text = models.CharField(max_length=120, blank=True)
    parameters = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict, help_text="What the run read: facility lists, communes, sites")
    results = models.JSONField(default=dict)
    timings = models.JSONField(default=dict, help_text="Seconds per stage")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The background task that runs it")
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.APPLIED)


class PlannedStopQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return scope.site_q("unit")


class PlannedStop(UUIDModel):
    """A day a mobile unit is planned to hold a consultation stop in a commune."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CANCELLED = "cancelled", _("Cancelled")

    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="stops")
    unit = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="planned_stops",
                             limit_choices_to={"kind": "mobile_unit"})
    commune = models.ForeignKey("geo.Commune", on_delete=models.PROTECT, related_name="planned_stops")
    date = models.DateField(db_index=True)
    order = models.PositiveSmallIntegerField(help_text=_("Position in the day's tour, from 1"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)

    objects = PlannedStopQuerySet.as_manager()

    class Meta:
        ordering = ["date", "unit", "order"]
        indexes = [models.Index(fields=["unit", "date"])]

    def __str__(self):
        return f"{self.unit} {self.date} #{self.order} {self.commune}"
