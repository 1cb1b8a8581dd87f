from . import views

app_name = "imports"

urlpatterns = views.urlpatterns
