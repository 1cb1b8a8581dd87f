from django.urls import path

from . import urls_remedies, urls_settings, urls_surveys, views

app_name = "service"

urlpatterns = [
    path("", views.complaints_view, name="complaints"),
    path("new/", views.complaint_new_view, name="complaint_new"),
    path("<int:pk>/", views.complaint_detail_view, name="complaint_detail"),
    path("<int:pk>/assign/", views.complaint_assign_view, name="complaint_assign"),
    path("<int:pk>/action/", views.complaint_action_view, name="complaint_action"),
    path("<int:pk>/resolve/", views.complaint_resolve_view, name="complaint_resolve"),
    path("<int:pk>/confirm/", views.complaint_confirm_view, name="complaint_confirm"),
    path("<int:pk>/reopen/", views.complaint_reopen_view, name="complaint_reopen"),
    path("<int:pk>/hold/", views.complaint_hold_view, name="complaint_hold"),
    path("<int:pk>/recall/", views.complaint_recall_view, name="complaint_recall"),
    path("recalls/", views.recalls_view, name="recalls"),
    path("recalls/export/", views.recalls_export_view, name="recalls_export"),
    path("recalls/drill/", views.recall_drill_view, name="recall_drill"),
    path("recalls/<int:pk>/", views.recall_detail_view, name="recall_detail"),
    path("recalls/<int:pk>/close/", views.recall_close_view, name="recall_close"),
    path("recalls/lines/<int:pk>/return/", views.recall_return_view, name="recall_return"),
    # each part's pages keep their own module (same namespace)
    *urls_remedies.urlpatterns,
    *urls_surveys.urlpatterns,
    *urls_settings.urlpatterns,
]
