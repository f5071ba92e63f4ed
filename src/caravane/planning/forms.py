"""The scenario parameters form and the facility import form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from caravane.planning.models import FacilityKind
from caravane.planning.pipeline import Parameters

DEFAULTS = Parameters()


class ScenarioForm(forms.Form):
    """Parameters of a planning run (the pipeline validates them again)."""

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    regions = forms.CharField(label=_("Region codes, comma-separated (empty: all of Morocco)"), required=False,
                              max_length=60)
    n_units = forms.IntegerField(label=_("Number of units"), min_value=1, initial=DEFAULTS.n_units)
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
    solver = forms.ChoiceField(label=_("Solver"), choices=[("heuristic", _("Fast heuristic with bound")),
                                                           ("exact", _("Exact (HiGHS), small instances"))],
                               initial=DEFAULTS.solver)
    time_limit = forms.FloatField(label=_("Time limit (s)"), min_value=1, max_value=600,
                                  initial=DEFAULTS.time_limit)

    def parameters(self) -> dict:
        """The cleaned values as pipeline parameters."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "name"}
        data["regions"] = [code.strip() for code in data["regions"].split(",") if code.strip()]
        return data


class FacilityImportForm(forms.Form):
    """Upload a facility list."""

    source = forms.CharField(label=_("List name"), max_length=80, initial="healthsites-2020")
    file = forms.FileField(label=_("CSV or GeoJSON file"))
