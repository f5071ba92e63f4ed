"""Loading the reference geography of Morocco into the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import models, transaction

from caravane.audit.actions import do_record_audit
from caravane.geo import geometry, hcp, sources
from caravane.geo.models import Commune, Province, Region

PROVINCE_KINDS = {
    "province": Province.Kind.PROVINCE,
    "prefecture": Province.Kind.PREFECTURE,
    "prefecture_of_arrondissements": Province.Kind.PREFECTURE_ARRONDISSEMENTS,
}


class GeometrySource:
    """How a 2024 commune got its 2014 polygon (Commune.geometry_source)."""

    CODE = "code"
    CROSSWALK = "crosswalk"
    ARRONDISSEMENTS = "arrondissements"


@dataclass
class TableCounts:
    """What an upsert did to one table."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class LoadReport:
    """The outcome of a geography load: per-table counts and how communes got their polygon."""

    regions: TableCounts = field(default_factory=TableCounts)
    provinces: TableCounts = field(default_factory=TableCounts)
    communes: TableCounts = field(default_factory=TableCounts)
    geometry_sources: dict[str, int] = field(default_factory=dict)
    with_indicators: int = 0

    @property
    def changed(self) -> bool:
        return any(counts.created or counts.updated for counts in (self.regions, self.provinces, self.communes))

    def as_dict(self) -> dict:
        """A JSON-ready summary, as written to the audit row."""
        tables = {name: vars(getattr(self, name)) for name in ("regions", "provinces", "communes")}
        return {**tables, "geometry_sources": self.geometry_sources, "with_indicators": self.with_indicators}


def _keys_2014(code: str, units: sources.Units) -> tuple[list[sources.Key2014], str]:
    """The 2014 commune keys a 2024 commune is made of, and how they were joined to it."""
    if code in units.arrondissements:
        return [sources.key_2014(part) for part in units.arrondissements[code]], GeometrySource.ARRONDISSEMENTS
    if code in units.crosswalk:
        return [sources.key_2014(units.crosswalk[code])], GeometrySource.CROSSWALK
    return [sources.key_2014(code)], GeometrySource.CODE


def _polygons_for(commune: dict, units: sources.Units, polygons_2014: dict) -> tuple[list, str]:
    """The 2014 polygons of a 2024 commune and how they were joined to it."""
    code = commune["code"]
    keys, how = _keys_2014(code, units)
    missing = [key for key in keys if key not in polygons_2014]
    if missing:
        raise LookupError(f"no 2014 polygon for commune {code} ({commune['name_fr']}): {missing}")
    return [polygon for key in keys for polygon in polygons_2014[key]], how


def _region_rows(units: sources.Units) -> list[dict]:
    return [{"code": row["code"], "name_fr": row["name_fr"], "name_ar": row["name_ar"],
             "population_2024": row["population_2024"], "households_2024": row["households_2024"]}
            for row in units.regions]


def _province_rows(units: sources.Units) -> list[dict]:
    return [{"code": row["code"], "name_fr": row["name_fr"], "name_ar": row["name_ar"],
             "kind": PROVINCE_KINDS[row["type"]], "region_id": row["region_code"],
             "population_2024": row["population_2024"], "households_2024": row["households_2024"]}
            for row in units.provinces]


def _commune_rows(units: sources.Units) -> list[dict]:
    polygons_2014 = sources.read_polygons_2014()
    indicators = sources.read_indicators_2014()
    rows = []
    for row in units.communes:
        polygons, how = _polygons_for(row, units, polygons_2014)
        boundary = geometry.to_geojson(geometry.boundary(polygons))
        lat, lon = geometry.inner_point(boundary)
        rows.append({
            "code": row["code"], "code_digits": row["code_digits"], "name_fr": row["name_fr"],
            "name_ar": row["name_ar"], "kind": Commune.Kind(row["type"]), "province_id": row["province_code"],
            "region_id": row["region_code"], "cercle_code": row["cercle_code"] or "",
            "population_2024": row["population_2024"], "households_2024": row["households_2024"],
            "population_2014": row["population_2014"], "centroid_lat": lat, "centroid_lon": lon,
            "geometry": boundary, "geometry_source": how, "indicators_2014": indicators.get(row["code"], {}),
        })
    return rows


def _upsert(model: type[models.Model], rows: list[dict]) -> TableCounts:
    """Insert new rows and rewrite changed ones; rows already equal are left untouched."""
    names = list(rows[0])
    existing = {item["pk"]: item for item in model.objects.values("pk", *names)}
    counts = TableCounts()
    to_write = []
    for row in rows:
        current = existing.get(row["code"])
        if current is None:
            counts.created += 1
        elif any(current[name] != value for name, value in row.items()):
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        to_write.append(model(**row))
    if to_write:
        model.objects.bulk_create(
            to_write, batch_size=200, update_conflicts=True, unique_fields=["code"],
            update_fields=[name.removesuffix("_id") for name in names if name != "code"],
        )
    return counts


def do_load_geography(*, actor=None) -> LoadReport:
    """Load or refresh the 12 regions, 83 provinces and 1,503 communes from the installed packages.

    Idempotent: rows already up to date are not written, and the audit row is recorded only when
    something changed.
    """
    units = sources.read_units()
    region_rows, province_rows, commune_rows = _region_rows(units), _province_rows(units), _commune_rows(units)
    report = LoadReport()
    with transaction.atomic(durable=True):
        # Indicators imported from HCP's files (import_commune_indicators) are kept, not wiped.
        imported = dict(Commune.objects.values_list("code", "indicators_2014"))
        for row in commune_rows:
            kept = {key: value for key, value in (imported.get(row["code"]) or {}).items()
                    if key not in sources.PACKAGE_INDICATOR_KEYS}
            row["indicators_2014"] = {**kept, **row["indicators_2014"]}
        report.regions = _upsert(Region, region_rows)
        report.provinces = _upsert(Province, province_rows)
        report.communes = _upsert(Commune, commune_rows)
        for row in commune_rows:
            report.geometry_sources[row["geometry_source"]] = report.geometry_sources.get(row["geometry_source"], 0) + 1
        report.with_indicators = sum(1 for row in commune_rows if row["indicators_2014"])
        if report.changed:
            do_record_audit(actor=actor, action="geo.load_geography", target=("geo.commune", ""),
                            detail={**report.as_dict(), "sources": sources.package_versions()})
    return report


@dataclass
class IndicatorImportReport:
    """The outcome of an import of HCP's commune indicators."""

    files: int = 0
    features: int = 0
    communes: TableCounts = field(default_factory=TableCounts)
    without_data: list[str] = field(default_factory=list)  # 2024 codes in the files that got no figure
    unmatched: list[str] = field(default_factory=list)  # "file: name (key)" of features no 2024 commune uses

    def as_dict(self) -> dict:
        """A JSON-ready summary, as written to the audit row."""
        return {"files": self.files, "features": self.features, "communes": vars(self.communes),
                "without_data": len(self.without_data), "unmatched": self.unmatched}


def _weighted_mean(parts: list[tuple[float, dict[str, float]]]) -> dict[str, float]:
    """Population-weighted mean of each indicator over the parts that publish it."""
    merged = {}
    for key in hcp.INDICATORS:
        pairs = [(weight, values[key]) for weight, values in parts if key in values]
        total = sum(weight for weight, _ in pairs)
        if pairs and total > 0:
            merged[key] = round(sum(weight * value for weight, value in pairs) / total, 4)
    return merged


def _read_indicator_files(paths) -> tuple[dict, dict, int]:
    """Per 2014 key: the (population, indicators) of its features, and a label; plus the feature count."""
    parts: dict[sources.Key2014, list] = {}
    labels: dict[sources.Key2014, str] = {}
    count = 0
    for path in paths:
        for feature in hcp.read_features(path):
            key = hcp.commune_key(feature, path)
            population = float(feature.attributes.get("pop_t") or 0)
            parts.setdefault(key, []).append((population, hcp.commune_indicators(feature, path)))
            labels.setdefault(key, f"{Path(path).name}: {feature.attributes.get('com_fr', '?')} {key}")
            count += 1
    return parts, labels, count


def do_import_commune_indicators(*, paths, actor=None) -> IndicatorImportReport:
    """Merge HCP's 2014 poverty indicators from RGPH 2014 WFS commune files into Commune.indicators_2014.

    2014 features join 2024 communes like the polygons (code, crosswalk, arrondissements); a
    commune's urban centre and a city's arrondissements are averaged weighted by 2014 population.
    A file that does not read, or a value that is not a percentage, raises ValueError and changes
    nothing. Idempotent: one audit row, only when a commune changed.
    """
    paths = [Path(path) for path in paths]
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    parts, labels, count = _read_indicator_files(paths)
    units = sources.read_units()
    report = IndicatorImportReport(files=len(paths), features=count)
    used: set[sources.Key2014] = set()
    with transaction.atomic(durable=True):
        communes = {commune.code: commune for commune in Commune.objects.select_for_update()}
        if len(communes) != len(units.communes):
            raise ValueError("the geography is not loaded: run `caravane load_geography` first")
        changed = []
        for row in units.communes:
            keys, _how = _keys_2014(row["code"], units)
            present = [key for key in keys if key in parts]
            used.update(present)
            if not present:
                continue
            # Part of a city only gives no city-wide figure; nor does a commune nobody lived in in 2014.
            values = _weighted_mean([part for key in keys for part in parts[key]]) if len(present) == len(keys) else {}
            if not values:
                report.without_data.append(row["code"])
                continue
            commune = communes[row["code"]]
            merged = {**commune.indicators_2014, **values}
            if merged == commune.indicators_2014:
                report.communes.unchanged += 1
                continue
            commune.indicators_2014 = merged
            changed.append(commune)
            report.communes.updated += 1
        Commune.objects.bulk_update(changed, ["indicators_2014"], batch_size=200)
        report.unmatched = sorted(labels[key] for key in parts.keys() - used)
        if changed:
            do_record_audit(actor=actor, action="geo.import_commune_indicators", target=("geo.commune", ""),
                            detail={**report.as_dict(), "paths": [path.name for path in paths]})
    return report
