"""Morocco's administrative geography: regions, provinces and communes (HCP 2024 census)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from caravane.core.models import LocalizedNameMixin


class Region(LocalizedNameMixin, models.Model):
    """One of the 12 regions; the key is the HCP two-digit code ("01" to "12")."""

    code = models.CharField(max_length=2, primary_key=True)
    name_fr = models.CharField(max_length=120)
    name_ar = models.CharField(max_length=120)
    population_2024 = models.PositiveIntegerField()
    households_2024 = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["code"]


class Province(LocalizedNameMixin, models.Model):
    """A province or prefecture; the key is the dotted HCP code ("01.511").

    Casablanca's eight prefectures of arrondissements carry a longer code ("06.141.01.00"):
    they subdivide the Casablanca commune, hold no commune of their own, and their population
    is already counted in the Casablanca prefecture (06.141).
    """

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        PREFECTURE_ARRONDISSEMENTS = "prefecture_arrondissements", _("Prefecture of arrondissements")

    code = models.CharField(max_length=12, primary_key=True)
    name_fr = models.CharField(max_length=120)
    name_ar = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="provinces")
    population_2024 = models.PositiveIntegerField()
    households_2024 = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["code"]


class Commune(LocalizedNameMixin, models.Model):
    """A 2024 census commune with its figures, centroid and boundary (GeoJSON, WGS84)."""

    class Kind(models.TextChoices):
        URBAN = "urban", _("Urban")
        RURAL = "rural", _("Rural")

    code = models.CharField(max_length=14, primary_key=True, help_text="Dotted HCP code RR.PPP.CC.NN")
    code_digits = models.CharField(max_length=9, unique=True)
    name_fr = models.CharField(max_length=120, db_index=True)
    name_ar = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=Kind.choices, db_index=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="communes")
    cercle_code = models.CharField(max_length=10, blank=True)
    population_2024 = models.PositiveIntegerField()
    households_2024 = models.PositiveIntegerField(null=True, blank=True)
    population_2014 = models.PositiveIntegerField(null=True, blank=True)
    centroid_lat = models.FloatField()
    centroid_lon = models.FloatField()
    geometry = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon, lon/lat")
    geometry_source = models.CharField(
        max_length=16,
        help_text="How the 2014 polygon was joined: code, crosswalk or arrondissements",
    )
    # 2014 census indicators that bear on access to care (HCP RGPH 2014, joined like the polygon).
    indicators_2014 = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]

