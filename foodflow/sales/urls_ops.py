"""The reviewer's, planner's and finance's pages of order to cash, in the "sales" namespace
(set by ``sales/urls.py``), under /sales/."""

from django.urls import path

from . import views_ops as views

urlpatterns = [
    path("review/", views.review_queue_view, name="review_queue"),
    path("review/export/", views.review_queue_export_view, name="review_queue_export"),
    path("review/<int:pk>/", views.order_review_view, name="order_review"),
    path("review/<int:pk>/credit-release/", views.credit_release_view, name="credit_release"),
    path("review/<int:pk>/reserve-rest/", views.order_reserve_rest_view, name="order_reserve_rest"),
    path("deliveries/", views.deliveries_view, name="deliveries"),
    path("deliveries/export/ready/", views.deliveries_ready_export_view, name="deliveries_ready_export"),
    path("deliveries/export/week/", views.deliveries_week_export_view, name="deliveries_week_export"),
    path("deliveries/new/<int:order_pk>/", views.delivery_create_view, name="delivery_create"),
    path("deliveries/<int:pk>/", views.delivery_detail_view, name="delivery_detail"),
    path("deliveries/<int:pk>/ship/", views.delivery_ship_view, name="delivery_ship"),
    path("deliveries/<int:pk>/receive/", views.delivery_receive_view, name="delivery_receive"),
    path("deliveries/<int:pk>/cancel/", views.delivery_cancel_view, name="delivery_cancel"),
    path("deliveries/<int:pk>/pdf/", views.delivery_pdf_view, name="delivery_pdf"),
    path("deliveries/<int:pk>/return/", views.return_create_view, name="return_create"),
    path("deliveries/orders/<int:pk>/close-short/", views.order_close_short_view, name="order_close_short"),
    path("returns/<int:pk>/", views.return_detail_view, name="return_detail"),
    path("receivables/", views.receivables_view, name="receivables"),
    path("receivables/export/", views.receivables_export_view, name="receivables_export"),
    path("receivables/aging/", views.aging_view, name="aging"),
    path("receivables/aging/export/", views.aging_export_view, name="aging_export"),
    path("receivables/<int:pk>/", views.invoice_detail_view, name="invoice_detail"),
    path("receivables/<int:pk>/vat-invoice/", views.invoice_issue_view, name="invoice_issue"),
    path("receivables/<int:pk>/write-off/", views.invoice_writeoff_view, name="invoice_writeoff"),
    path("payments/", views.payments_view, name="payments"),
    path("payments/export/", views.payments_export_view, name="payments_export"),
    path("payments/new/", views.payment_create_view, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail_view, name="payment_detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate_view, name="payment_allocate"),
    path("reconciliation/", views.reconciliation_view, name="reconciliation"),
    path("reconciliation/export/", views.reconciliation_export_view, name="reconciliation_export"),
]
