"""Pages of surveys, revisits and complaint rates, and the complaint ledger's export (included
into the ``service`` namespace under /service/)."""

from django.urls import path

from . import views, views_surveys

urlpatterns = [
    path("export/", views.complaints_export_view, name="complaints_export"),
    path("surveys/", views_surveys.surveys_view, name="surveys"),
    path("surveys/export/", views_surveys.surveys_export_view, name="surveys_export"),
    path("surveys/new/", views_surveys.survey_new_view, name="survey_new"),
    path("surveys/<int:pk>/edit/", views_surveys.survey_edit_view, name="survey_edit"),
    path("surveys/<int:pk>/active/", views_surveys.survey_set_active_view, name="survey_set_active"),
    path("surveys/send/", views_surveys.survey_send_view, name="survey_send"),
    path("surveys/results/", views_surveys.survey_results_view, name="survey_results"),
    path("surveys/results/export/", views_surveys.survey_results_export_view, name="survey_results_export"),
    path("revisits/", views_surveys.revisits_view, name="revisits"),
    path("revisits/export/", views_surveys.revisits_export_view, name="revisits_export"),
    path("revisits/<int:pk>/done/", views_surveys.revisit_done_view, name="revisit_done"),
    path("rates/", views_surveys.complaint_rates_view, name="complaint_rates"),
    path("rates/export/", views_surveys.complaint_rates_export_view, name="complaint_rates_export"),
]
