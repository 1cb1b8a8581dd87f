from django.urls import path

from . import views_public, views_public_feedback

app_name = "service_public"

urlpatterns = [
    path("complaint/", views_public.complaint_form_view, name="complaint"),
    # before the survey links: "suggest" is not a token
    path("suggest/", views_public_feedback.suggestion_form_view, name="suggestion"),
    path("<str:token>/", views_public.survey_view, name="survey"),
]
