from django.urls import path

from caravane.pharmacy import views

app_name = "pharmacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("alerts/", views.alerts, name="alerts"),
    path("reports/", views.report, name="report"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("sites/<uuid:site>/", views.stock, name="stock"),
    path("sites/<uuid:site>/receive/", views.receive, name="receive"),
    path("sites/<uuid:site>/transfer/", views.transfer, name="transfer"),
    path("sites/<uuid:site>/count/", views.count, name="count"),
    path("sites/<uuid:site>/write-off/", views.write_off, name="write_off"),
    path("sites/<uuid:site>/tour/", views.tour, name="tour"),
    path("sites/<uuid:site>/ledger/", views.ledger, name="ledger"),
    path("sites/<uuid:site>/dispensing/", views.dispensing, name="dispensing"),
    path("sites/<uuid:site>/dispense/<uuid:prescription>/", views.dispense, name="dispense"),
    path("sites/<uuid:site>/request/", views.request_stock, name="request_stock"),
    path("requisitions/<uuid:pk>/review/", views.review_requisition, name="review_requisition"),
    path("transfers/<uuid:pk>/receive/", views.receive_transfer, name="receive_transfer"),
]
