from django.urls import path

from caravane.planning import views

app_name = "planning"

urlpatterns = [
    path("", views.scenario_list, name="scenario_list"),
    path("facilities/import", views.facility_import, name="facility_import"),
    path("communes.geojson", views.commune_shapes, name="commune_shapes"),
    path("<uuid:pk>/", views.scenario_detail, name="scenario_detail"),
    path("<uuid:pk>/progress", views.scenario_progress, name="scenario_progress"),
    path("<uuid:pk>/map", views.scenario_map, name="scenario_map"),
    path("<uuid:pk>/apply", views.scenario_apply, name="scenario_apply"),
    path("<uuid:pk>/compare/<uuid:other>", views.scenario_compare, name="scenario_compare"),
    path("<uuid:pk>/<str:filename>", views.scenario_export, name="scenario_export"),
]
