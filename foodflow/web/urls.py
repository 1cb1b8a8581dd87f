from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("m/<slug:code>/", views.area_view, name="area"),
    path("search/", views.search_view, name="search"),
    path("notifications/", views.notifications_view, name="notifications"),
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
    path("audit/", views.audit_view, name="audit"),
    path("audit/export.xlsx", views.audit_export_view, name="audit_export"),
]
