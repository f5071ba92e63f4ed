from django.urls import path

from caravane.homes import views

app_name = "homes"
urlpatterns = [
    path("gp/", views.gp, name="gp"),
    path("gp/waiting/", views.gp_waiting, name="gp_waiting"),
]
