"""Filters for geography lists, shared by the pages and the API."""

from django.utils.translation import gettext_lazy as _

from caravane.core.filters import Filter, FilterSet, SearchFilter
from caravane.geo.models import Commune, Province, Region


def region_choices():
    """(code, name) of every region, for a filter's choices."""
    return Region.objects.values_list("code", "name_fr")


def province_choices():
    """(code, name) of every province, for a filter's choices."""
    return Province.objects.values_list("code", "name_fr")


class ProvinceFilterSet(FilterSet):
    filters = {
        "q": SearchFilter(lookup="", label=_("Search"), fields=("name_fr", "name_ar")),
        "region": Filter(lookup="region_id", label=_("Region"), choices=region_choices),
        "kind": Filter(lookup="kind", label=_("Kind"), choices=Province.Kind.choices),
    }


class CommuneFilterSet(FilterSet):
    filters = {
        "q": SearchFilter(lookup="", label=_("Search"), fields=("name_fr", "name_ar")),
        "region": Filter(lookup="region_id", label=_("Region"), choices=region_choices),
        "province": Filter(lookup="province_id", label=_("Province"), choices=province_choices),
        "kind": Filter(lookup="kind", label=_("Kind"), choices=Commune.Kind.choices),
    }
