from django.urls import path

from caravane.rooms import views

app_name = "rooms"
urlpatterns = [
    path("<uuid:pk>/", views.room, name="room"),
    path("<uuid:pk>/call/", views.call_now, name="call"),
    path("<uuid:pk>/ready/", views.patient_ready, name="ready"),
    path("<uuid:pk>/conversation/", views.conversation, name="conversation"),
    path("<uuid:pk>/message/", views.message, name="message"),
    path("<uuid:pk>/snapshot/", views.snapshot, name="snapshot"),
    path("<uuid:pk>/recording/", views.recording, name="recording"),
    path("<uuid:pk>/report/", views.report, name="report"),
]
