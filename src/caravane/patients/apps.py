from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "caravane.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.audit.subjects import register_patient_finder
        from caravane.patients.search import patients_named

        register_patient_finder(patients_named)

        from caravane.accounts.lane import bearer_read
        from caravane.core import lane
        from caravane.patients.api import read_on_lane

        lane.register(r"/api/patients/(?P<pk>[0-9a-fA-F-]{36})", "api/patients/<uuid:pk>", bearer_read(read_on_lane))
