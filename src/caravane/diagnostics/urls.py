from django.urls import path

from caravane.diagnostics import views

app_name = "diagnostics"
urlpatterns = [
    path("ecg/<uuid:pk>/", views.ecg, name="ecg"),
    path("ecg/<uuid:pk>/samples/", views.ecg_samples, name="ecg_samples"),
    path("ecg/<uuid:pk>/file/", views.ecg_file, name="ecg_file"),
    path("images/<uuid:pk>/", views.image, name="image"),
    path("images/<uuid:pk>/<slug:rendition>/", views.image_file, name="image_file"),
    path("visits/<uuid:pk>/import/", views.import_visit, name="import_visit"),
    path("acts/<uuid:pk>/import/", views.import_act, name="import_act"),
    path("acts/<uuid:act>/stream/", views.stream, name="stream"),
]
