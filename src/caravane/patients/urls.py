from django.urls import path

from caravane.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.search, name="search"),
    path("register/", views.register, name="register"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/edit/", views.edit, name="edit"),
    path("<uuid:pk>/merge/", views.merge, name="merge"),
    path("<uuid:pk>/consents/", views.record_consent, name="record_consent"),
    path("consents/<uuid:pk>/revoke/", views.revoke_consent, name="revoke_consent"),
    path("consents/<uuid:pk>/document/", views.consent_document, name="consent_document"),
]
