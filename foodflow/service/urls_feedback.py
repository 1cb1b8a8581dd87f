"""The feedback area: suggestions (namespace ``feedback``)."""

from django.urls import path

from . import views_feedback as views

app_name = "feedback"

urlpatterns = [
    path("", views.suggestions_view, name="suggestions"),
    path("export/", views.suggestions_export_view, name="suggestions_export"),
    path("new/", views.suggestion_new_view, name="suggestion_new"),
    path("<int:pk>/", views.suggestion_detail_view, name="suggestion_detail"),
    path("<int:pk>/review/", views.suggestion_review_view, name="suggestion_review"),
    path("<int:pk>/decide/", views.suggestion_decide_view, name="suggestion_decide"),
    path("<int:pk>/implemented/", views.suggestion_implemented_view, name="suggestion_implemented"),
    path("summary/", views.summary_view, name="summary"),
    path("summary/export/", views.summary_export_view, name="summary_export"),
]
