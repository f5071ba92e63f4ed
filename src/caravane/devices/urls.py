app_name = "devices"
urlpatterns = []
