"""`caravane import_commune_indicators`: HCP's 2014 poverty rates, read from its WFS commune files."""

from __future__ import annotations

import gzip
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from caravane.audit.models import AuditEvent
from caravane.geo import hcp
from caravane.geo.models import Commune
from caravane.planning.analysis import COMPONENTS

from .reference_data import HCP_COMMUNES_2014

pytestmark = pytest.mark.skipif(not HCP_COMMUNES_2014.is_dir(), reason="the shared HCP data (../shared) is absent")

MIDELT = HCP_COMMUNES_2014 / "Draa-Tafilalet" / "Midelt.xml.gz"
CASABLANCA = HCP_COMMUNES_2014 / "Casablanca-Settat" / "Casablanca.xml.gz"
NADOR = HCP_COMMUNES_2014 / "Oriental" / "Nador.xml.gz"


def run(*paths) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_commune_indicators", *[str(path) for path in paths], stdout=out)
    return out.getvalue()


def expected(path, predicate) -> dict[str, float]:
    """Population-weighted mean of the raw fields over the features the predicate picks."""
    features = [f for f in hcp.read_features(path) if predicate(f.attributes)]
    assert features
    weights = [float(f.attributes["pop_t"]) for f in features]
    return {key: sum(w * float(f.attributes[name]) for w, f in zip(weights, features)) / sum(weights)
            for key, name in hcp.INDICATORS.items()}


def test_a_rural_commune_gets_its_rates_with_its_centre(morocco):
    output = run(MIDELT)
    assert "unmatched features: 0" in output
    imilchil = Commune.objects.get(province_id="08.363", name_fr="Imilchil")
    want = expected(MIDELT, lambda a: a["com_fr"] == "Imilchil")
    assert imilchil.indicators_2014.keys() >= want.keys() | {"illiteracy_pct"}
    for key, value in want.items():
        assert imilchil.indicators_2014[key] == pytest.approx(value, abs=1e-4)
    assert Commune.objects.filter(province_id="08.363", indicators_2014__has_key="poverty_rate_pct").count() == \
        Commune.objects.filter(province_id="08.363").count()


def test_a_city_gets_the_population_weighted_rates_of_its_arrondissements(morocco):
    run(CASABLANCA)
    casablanca = Commune.objects.get(province_id="06.141", name_fr="Casablanca")
    assert casablanca.geometry_source == "arrondissements"
    # Every feature of the prefecture is an arrondissement of the city, but for the Mechouar (a commune).
    want = expected(CASABLANCA, lambda a: not a["com_fr"].startswith("Mechouar"))
    assert casablanca.indicators_2014["poverty_rate_pct"] == pytest.approx(want["poverty_rate_pct"], abs=1e-4)
    assert 0 < casablanca.indicators_2014["multidimensional_poverty_pct"] < 5


def test_importing_twice_changes_nothing_and_audits_once(morocco):
    run(MIDELT)
    audits = AuditEvent.objects.filter(action="geo.import_commune_indicators").count()
    before = dict(Commune.objects.values_list("code", "indicators_2014"))
    output = run(MIDELT)
    assert "(0 updated," in output
    assert dict(Commune.objects.values_list("code", "indicators_2014")) == before
    assert AuditEvent.objects.filter(action="geo.import_commune_indicators").count() == audits == 1


def test_features_outside_the_2024_communes_are_reported(morocco):
    output = run(NADOR)
    assert "unmatched features: 1" in output and "Melilia" in output


def test_a_reload_of_the_geography_keeps_the_imported_rates(morocco):
    run(MIDELT)
    imported = dict(Commune.objects.filter(province_id="08.363").values_list("code", "indicators_2014"))
    with translation.override("en"):
        call_command("load_geography", stdout=io.StringIO())
    assert dict(Commune.objects.filter(province_id="08.363").values_list("code", "indicators_2014")) == imported


def test_a_value_that_is_not_a_percentage_is_refused_and_changes_nothing(morocco, tmp_path):
    text = gzip.decompress(MIDELT.read_bytes()).decode("utf-8")
    first = text.index("<RGPH:vul_T>")
    broken = text[:first] + "<RGPH:vul_T>150" + text[text.index("</RGPH:vul_T>", first):]
    path = tmp_path / "Midelt.xml"
    path.write_text(broken, encoding="utf-8")
    before = dict(Commune.objects.values_list("code", "indicators_2014"))
    with pytest.raises(CommandError, match="vul_T"):
        run(path)
    assert dict(Commune.objects.values_list("code", "indicators_2014")) == before


def test_a_missing_file_is_refused(morocco, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "absent.xml.gz")


def test_the_planning_index_reads_the_imported_keys():
    wanted = {key for _name, _weight, keys, _ref in COMPONENTS for key in keys}
    assert {"poverty_rate_pct", "vulnerability_rate_pct", "multidimensional_poverty_pct"} <= wanted
    assert wanted - {"paved_road_distance_km"} <= set(hcp.INDICATORS)


def test_communes_without_2014_population_get_no_figure(morocco):
    output = run(HCP_COMMUNES_2014 / "Eddakhla-Oued-Eddahab" / "Aousserd.xml.gz")
    lagouira = Commune.objects.get(province_id="12.066", name_fr="Lagouira")
    assert "poverty_rate_pct" not in lagouira.indicators_2014
    assert lagouira.code in output
