"""Remedies of a complaint (under the complaint) and finance's credits to issue; included by
``service/urls.py`` into the ``service`` namespace."""

from django.urls import path

from . import views_remedies as views

urlpatterns: list = [
    path("<int:pk>/remedies/replace/", views.remedy_replace_view, name="remedy_replace"),
    path("<int:pk>/remedies/credit/", views.remedy_credit_view, name="remedy_credit"),
    path("<int:pk>/remedies/return/", views.remedy_return_view, name="remedy_return"),
    path("credits/", views.credits_to_issue_view, name="credits_to_issue"),
    path("credits/export/", views.credits_export_view, name="credits_export"),
    path("credits/<int:pk>/issue/", views.remedy_issue_view, name="remedy_issue"),
]
