from django.urls import path

from caravane.care import views

app_name = "care"
urlpatterns = [
    path("queue/", views.queue_board, name="queue"),
    path("queue/columns/", views.queue_columns, name="queue_columns"),
    path("check-in/", views.check_in, name="check_in"),
    path("check-in/matches/", views.check_in_matches, name="check_in_matches"),
    path("prescriptions/", views.prescriptions, name="prescriptions"),
    path("visits/<uuid:pk>/", views.visit, name="visit"),
    path("visits/<uuid:pk>/advance/", views.advance, name="advance"),
    path("visits/<uuid:pk>/vitals/", views.record_vitals, name="vitals"),
    path("visits/<uuid:pk>/note/", views.save_note, name="note"),
    path("visits/<uuid:pk>/diagnoses/", views.add_diagnosis, name="diagnosis"),
    path("visits/<uuid:pk>/diagnoses/<uuid:entry>/remove/", views.remove_diagnosis, name="remove_diagnosis"),
    path("visits/<uuid:pk>/prescriptions/", views.prescribe, name="prescription"),
    path("visits/<uuid:pk>/prescriptions/<uuid:entry>/remove/", views.remove_prescription, name="remove_prescription"),
    path("visits/<uuid:pk>/close/", views.close_visit, name="close"),
    path("visits/<uuid:pk>/amendments/", views.amend, name="amend"),
    path("visits/<uuid:pk>/summary/<str:lang>/", views.summary, name="summary"),
    path("patients/<uuid:pk>/chart/", views.chart, name="chart"),
    path("patients/<uuid:pk>/allergies/", views.record_allergy, name="record_allergy"),
    path("patients/<uuid:pk>/allergies/<uuid:allergy>/", views.change_allergy, name="change_allergy"),
]
