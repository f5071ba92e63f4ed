from django.urls import path

from caravane.devices import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="list"),
    path("new/", views.device_register, name="register"),
    path("<uuid:pk>/", views.device_detail, name="detail"),
    path("<uuid:pk>/edit/", views.device_edit, name="edit"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("visits/<uuid:pk>/readings/", views.visit_panel, name="visit_panel"),
    path("visits/<uuid:pk>/device/", views.use_device, name="use_device"),
    path("readings/<uuid:pk>/confirm/", views.confirm_reading, name="confirm"),
    path("readings/<uuid:pk>/dismiss/", views.dismiss_reading, name="dismiss"),
    path("readings/<uuid:pk>/assign/", views.assign_reading, name="assign"),
    path("monitoring/", views.monitoring_page, name="monitoring"),
    path("monitoring/<uuid:pk>/change/", views.change_plan, name="change_plan"),
    path("monitoring/<uuid:pk>/end/", views.end_plan, name="end_plan"),
    path("monitoring/alerts/", views.alerts_panel, name="alerts_panel"),
    path("monitoring/alerts/<uuid:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge"),
]
