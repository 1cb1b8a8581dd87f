from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("process/", views.process_view, name="process"),
    path("process/<slug:name>/", views.process_flow_view, name="process_flow"),
]
