"""Market-research pages (mounted under /crm/ in the "crm" namespace; names are prefixed so that
they never clash with the customer pages)."""

from django.urls import path

from . import views_market as views

urlpatterns = [
    path("market/competitors/", views.competitor_list_view, name="competitors"),
    path("market/competitors/export.xlsx", views.competitor_export_view, name="competitors_export"),
    path("market/competitors/<int:pk>/edit/", views.competitor_edit_view, name="competitor_edit"),
    path("market/intel/", views.intel_list_view, name="intel_list"),
    path("market/intel/export.xlsx", views.intel_export_view, name="intel_export"),
    path("market/intel/new/", views.intel_create_view, name="intel_create"),
    path("market/intel/<int:pk>/edit/", views.intel_edit_view, name="intel_edit"),
    path("market/intel/<int:pk>/refresh/", views.intel_refresh_view, name="intel_refresh"),
    path("market/demand/", views.demand_list_view, name="demand_list"),
    path("market/demand/export.xlsx", views.demand_export_view, name="demand_export"),
    path("market/demand/new/", views.demand_create_view, name="demand_create"),
    path("market/demand/<int:pk>/edit/", views.demand_edit_view, name="demand_edit"),
    path("market/demand/<int:pk>/refresh/", views.demand_refresh_view, name="demand_refresh"),
    path("market/reports/", views.report_list_view, name="report_list"),
    path("market/reports/export.xlsx", views.report_export_view, name="report_export"),
    path("market/reports/new/", views.report_create_view, name="report_create"),
    path("market/reports/<int:pk>/edit/", views.report_edit_view, name="report_edit"),
    path("market/reports/<int:pk>/refresh/", views.report_refresh_view, name="report_refresh"),
    path("market/stale/", views.stale_view, name="stale"),
    path("market/attachments/<int:pk>/", views.market_attachment_view, name="market_attachment"),
]
