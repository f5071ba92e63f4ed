from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "caravane.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.audit.subjects import register_patient_finder
        from caravane.patients.search import patients_named

        register_patient_finder(patients_named)
