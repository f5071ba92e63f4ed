"""Filters for network lists, shared by the pages and the API."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from caravane.core.filters import Filter, FilterSet, SearchFilter
from caravane.core.access import Role
from caravane.network.models import Site


def _name_field(model) -> str:
    """The name column in the active language, falling back to French."""
    language = (get_language() or "fr")[:2]
    field = f"name_{language}"
    return field if any(f.name == field for f in model._meta.fields) else "name_fr"


def _named_choices(model):
    """(code, name) pairs of a reference table, named in the reader's language and sorted by that name."""
    name = _name_field(model)
    return model.objects.order_by(name).values_list("code", name)


def _regions():
    from caravane.geo.models import Region

    return _named_choices(Region)


def _provinces():
    from caravane.geo.models import Province

    return _named_choices(Province)


def _specialties():
    from caravane.network.models import Specialty

    return _named_choices(Specialty)


class SiteFilterSet(FilterSet):
    filters = {
        "q": SearchFilter(lookup="", label=_("Search"),
                          fields=("name", "name_ar", "commune__name_fr", "commune__name_ar")),
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
