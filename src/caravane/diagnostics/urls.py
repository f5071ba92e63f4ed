app_name = "diagnostics"
urlpatterns = []
