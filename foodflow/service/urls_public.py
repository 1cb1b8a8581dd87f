from django.urls import path

from . import views_public

app_name = "service_public"

urlpatterns = [
    path("complaint/", views_public.complaint_form_view, name="complaint"),
    path("<str:token>/", views_public.survey_view, name="survey"),
]
