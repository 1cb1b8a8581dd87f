"""The service settings pages and the recall notices (namespace ``service``, under /service/)."""

from django.urls import path

from . import views, views_settings

urlpatterns: list = [
    path("settings/", views_settings.settings_view, name="settings"),
    path("settings/sla/<str:severity>/", views_settings.sla_save_view, name="sla_save"),
    path("settings/hours/", views_settings.hours_save_view, name="hours_save"),
    path("settings/holidays/", views_settings.holiday_add_view, name="holiday_add"),
    path("settings/holidays/<int:pk>/delete/", views_settings.holiday_delete_view, name="holiday_delete"),
    # a recall's notices to its customers
    path("recalls/<int:pk>/notice/<int:customer_id>.pdf", views.recall_notice_pdf_view, name="recall_notice_pdf"),
    path("recalls/<int:pk>/notify/", views.recall_notify_view, name="recall_notify"),
    path(
        "recalls/<int:pk>/notified-by-phone/<int:customer_id>/",
        views.recall_notified_phone_view,
        name="recall_notified_phone",
    ),
]
