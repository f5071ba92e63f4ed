app_name = "pharmacy"
urlpatterns = []
