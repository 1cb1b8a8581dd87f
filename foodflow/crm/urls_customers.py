"""Customer development pages, in the "crm" namespace (set by ``crm/urls.py``), under /crm/."""

from django.urls import path

from . import views_customers as views

urlpatterns = [
    path("customers/", views.customer_list_view, name="customers"),
    path("customers/export.xlsx", views.customer_export_view, name="customers_export"),
    path("customers/new/", views.customer_create_view, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail_view, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit_view, name="customer_edit"),
    path("customers/<int:pk>/contacts/new/", views.contact_edit_view, name="contact_create"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit_view, name="contact_edit"),
    path("customers/<int:pk>/activities/new/", views.customer_activity_log_view, name="customer_activity_log"),
    path("customers/<int:pk>/credit/", views.customer_credit_view, name="customer_credit"),
    path("customers/<int:pk>/tier/", views.customer_tier_view, name="customer_tier"),
    path("leads/", views.lead_list_view, name="leads"),
    path("leads/export.xlsx", views.lead_export_view, name="leads_export"),
    path("leads/new/", views.lead_create_view, name="lead_create"),
    path("leads/<int:pk>/", views.lead_detail_view, name="lead_detail"),
    path("leads/<int:pk>/activities/new/", views.lead_activity_log_view, name="lead_activity_log"),
    path("leads/<int:pk>/contact/", views.lead_contact_view, name="lead_contact"),
    path("leads/<int:pk>/qualify/", views.lead_qualify_view, name="lead_qualify"),
    path("leads/<int:pk>/lose/", views.lead_lose_view, name="lead_lose"),
    path("leads/<int:pk>/convert/", views.lead_convert_view, name="lead_convert"),
    path("revisits/", views.revisit_list_view, name="revisits"),
    path("revisits/export.xlsx", views.revisit_export_view, name="revisits_export"),
    path("plans/", views.plan_list_view, name="plans"),
    path("plans/export.xlsx", views.plan_export_view, name="plans_export"),
]
