from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("", views.stock_view, name="stock"),
    path("export/", views.stock_export_view, name="stock_export"),
    path("lots/<int:pk>/", views.lot_detail_view, name="lot_detail"),
    path("lots/<int:pk>/hold/", views.lot_hold_view, name="lot_hold"),
    path("lots/<int:pk>/release/", views.lot_release_view, name="lot_release"),
    path("lots/<int:pk>/recall/", views.lot_recall_view, name="lot_recall"),
    path("lots/<int:pk>/adjust/", views.lot_adjust_view, name="lot_adjust"),
    path("lots/<int:pk>/scrap/", views.lot_scrap_view, name="lot_scrap"),
    path("receive/", views.receive_view, name="receive"),
    path("near-expiry/", views.near_expiry_view, name="near_expiry"),
    path("near-expiry/export/", views.near_expiry_export_view, name="near_expiry_export"),
    path("warehouses/", views.warehouses_view, name="warehouses"),
    path("warehouses/export/", views.warehouses_export_view, name="warehouses_export"),
    path("capacity/", views.capacity_view, name="capacity"),
    path("production-requests/", views.production_requests_view, name="production_requests"),
    path("production-requests/export/", views.production_requests_export_view, name="production_requests_export"),
    path("production-requests/new/", views.production_request_create_view, name="production_request_create"),
    path(
        "production-requests/<int:pk>/cancel/", views.production_request_cancel_view, name="production_request_cancel"
    ),
]
