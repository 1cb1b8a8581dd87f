from django.urls import path

from . import views, views_dashboards, views_finance, views_monitoring, views_sales, views_targets

app_name = "analytics"

urlpatterns = [
    path("process/", views.process_view, name="process"),
    path("process/<slug:name>/", views.process_flow_view, name="process_flow"),
    *views_sales.urlpatterns,
    *views_dashboards.urlpatterns,
    *views_monitoring.urlpatterns,
    *views_targets.urlpatterns,
    *views_finance.urlpatterns,
]
