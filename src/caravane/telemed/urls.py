from django.urls import path

from caravane.telemed import views

app_name = "telemed"
urlpatterns = [
    path("", views.index, name="index"),
    path("requests/", views.site_requests, name="requests"),
    path("requests/rows/", views.request_rows, name="request_rows"),
    path("visits/<uuid:visit_pk>/request/", views.request_act, name="request"),
    path("acts/<uuid:pk>/", views.act, name="act"),
    path("acts/<uuid:pk>/live/", views.act_live, name="act_live"),
    path("acts/<uuid:pk>/report/<str:lang>/", views.report_print, name="report_print"),
    path("acts/<uuid:pk>/<slug:operation>/", views.operate, name="operate"),
    path("attachments/<uuid:pk>/", views.attachment, name="attachment"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/rows/", views.worklist_rows, name="worklist_rows"),
    path("roster/", views.roster, name="roster"),
    path("roster/<uuid:pk>/withdraw/", views.withdraw_slot, name="withdraw_slot"),
    path("coordination/", views.coordination, name="coordination"),
    path("coordination/rows/", views.coordination_rows, name="coordination_rows"),
    path("indicators/", views.indicators, name="indicators"),
]
