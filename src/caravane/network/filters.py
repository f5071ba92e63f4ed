"""Filters for network lists, shared by the pages and the API."""

from django.utils.translation import gettext_lazy as _

from caravane.core.filters import Filter, FilterSet, SearchFilter
from caravane.network.models import Role, Site


def _regions():
    from caravane.geo.models import Region

    return Region.objects.values_list("code", "name_fr")


def _provinces():
    from caravane.geo.models import Province

    return Province.objects.values_list("code", "name_fr")


def _specialties():
    from caravane.network.models import Specialty

    return Specialty.objects.values_list("code", "name_fr")


class SiteFilterSet(FilterSet):
    filters = {
        "q": SearchFilter(lookup="", label=_("Search"), fields=("name", "name_ar", "commune__name_fr")),
        "kind": Filter(lookup="kind", label=_("Kind"), choices=Site.Kind.choices),
        "region": Filter(lookup="commune__region_id", label=_("Region"), choices=_regions),
        "province": Filter(lookup="commune__province_id", label=_("Province"), choices=_provinces),
        "specialty": Filter(lookup="specialties__code", label=_("Specialty"), choices=_specialties),
    }


class StaffFilterSet(FilterSet):
    filters = {
        "q": SearchFilter(lookup="", label=_("Search"), fields=("first_name", "last_name", "last_name_ar")),
        "role": Filter(lookup="role", label=_("Role"), choices=Role.choices),
        "specialty": Filter(lookup="specialty_id", label=_("Specialty"), choices=_specialties),
    }
