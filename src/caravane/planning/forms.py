"""The scenario parameters form and the facility import form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from caravane.planning.models import FacilityKind
from caravane.planning.pipeline import Parameters

DEFAULTS = Parameters()
SOLVERS = [("heuristic", _("Fast heuristic with bound")), ("exact", _("Exact (HiGHS), small instances"))]
REGIONAL_MINIMUMS = [
    ("share", _("Its share of the units, in proportion to its underserved people (at least one)")),
    ("one", _("At least one unit")),
    ("none", _("No minimum")),
]


class ScenarioForm(forms.Form):
    """Parameters of a planning run (the pipeline validates them again)."""

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    regions = forms.MultipleChoiceField(label=_("Regions (none ticked: all of Morocco)"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    n_units = forms.IntegerField(label=_("Number of units"), min_value=1, initial=DEFAULTS.n_units)
    weight_by_underservice = forms.BooleanField(
        label=_("Count people by how underserved their commune is (underservice index)"), required=False,
        initial=DEFAULTS.weight_by_underservice)
    regional_minimum = forms.ChoiceField(label=_("Each region with underserved communes gets"),
                                         choices=REGIONAL_MINIMUMS, initial=DEFAULTS.regional_minimum)
    capacity = forms.IntegerField(label=_("People served per unit (empty: no limit)"), min_value=1, required=False,
                                  initial=int(DEFAULTS.capacity))
    max_per_province = forms.IntegerField(label=_("At most k units per province (empty: no limit)"), min_value=1,
                                          required=False, initial=DEFAULTS.max_per_province)
    care_kinds = forms.MultipleChoiceField(label=_("Facility kinds that count as care"),
                                           choices=FacilityKind.choices, initial=DEFAULTS.care_kinds,
                                           widget=forms.CheckboxSelectMultiple)
    underserved_km = forms.FloatField(label=_("Underserved beyond (road km to care)"), min_value=0.1,
                                      initial=DEFAULTS.underserved_km)
    reach_km = forms.FloatField(label=_("A unit reaches communes within (road km)"), min_value=0.1,
                                initial=DEFAULTS.reach_km)
    rural_bases_only = forms.BooleanField(label=_("Bases in rural communes only"), required=False,
                                          initial=DEFAULTS.rural_bases_only)
    horizon_weeks = forms.IntegerField(label=_("Horizon (weeks)"), min_value=1, max_value=26,
                                       initial=DEFAULTS.horizon_weeks)
    working_days = forms.IntegerField(label=_("Working days a week"), min_value=1, max_value=7,
                                      initial=DEFAULTS.working_days)
    daily_km = forms.FloatField(label=_("Daily driving limit (km)"), min_value=1, initial=DEFAULTS.daily_km)
    return_to_base = forms.BooleanField(label=_("Return to base every evening"), required=False,
                                        initial=DEFAULTS.return_to_base)
    solver = forms.ChoiceField(label=_("Solver"), choices=SOLVERS, initial=DEFAULTS.solver)
    time_limit = forms.FloatField(label=_("Time limit (s)"), min_value=1, max_value=600,
                                  initial=DEFAULTS.time_limit)

    def __init__(self, *args, **kwargs):
        from caravane.geo.models import Region

        super().__init__(*args, **kwargs)
        self.fields["regions"].choices = [(r.code, r.localized_name) for r in Region.objects.order_by("code")]
        for field in self.fields.values():
            if isinstance(field, forms.BooleanField):
                field.label_suffix = ""  # the label follows its tick box: no colon

    def parameters(self) -> dict:
        """The cleaned values as pipeline parameters."""
        return {k: v for k, v in self.cleaned_data.items() if k != "name"}


class FacilityImportForm(forms.Form):
    """Upload a facility list."""

    source = forms.CharField(label=_("List name"), max_length=80, initial="healthsites-2020")
    file = forms.FileField(label=_("CSV or GeoJSON file"))
