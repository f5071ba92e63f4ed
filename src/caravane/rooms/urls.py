from django.urls import path

from caravane.rooms import views

app_name = "rooms"
urlpatterns = [
    path("<uuid:pk>/", views.room, name="room"),
    path("<uuid:pk>/call/", views.call_now, name="call"),
    path("<uuid:pk>/ready/", views.patient_ready, name="ready"),
]
