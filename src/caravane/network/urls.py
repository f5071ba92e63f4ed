from django.urls import path

from caravane.network import views

urlpatterns = [
    path("", views.home, name="home"),
]
