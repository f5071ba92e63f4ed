from django.urls import path

from caravane.network import views

urlpatterns = [
    path("network/", views.dashboard, name="network_dashboard"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/map/", views.site_map, name="site_map"),
    path("sites/map/sites.json", views.site_map_data, name="site_map_data"),
    path("sites/map/outlines.geojson", views.map_outlines, name="map_outlines"),
    path("sites/<uuid:pk>/", views.site_detail, name="site_detail"),
    path("sites/<uuid:pk>/staff/", views.site_staff_page, name="site_staff"),
    path("mobile-units/", views.mobile_units, name="mobile_units"),
]
