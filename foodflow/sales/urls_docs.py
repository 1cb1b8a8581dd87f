"""The rep's and approver's pages of order to cash, in the "sales" namespace (set by
``sales/urls.py``), under /sales/."""

from django.urls import path

from . import views_docs as views

urlpatterns = [
    path("inquiries/", views.inquiry_list_view, name="inquiries"),
    path("inquiries/export/", views.inquiry_export_view, name="inquiries_export"),
    path("inquiries/new/", views.inquiry_create_view, name="inquiry_create"),
    path("inquiries/<int:pk>/", views.inquiry_detail_view, name="inquiry_detail"),
    path("inquiries/<int:pk>/quote/", views.inquiry_quote_view, name="inquiry_quote"),
    path("inquiries/<int:pk>/lose/", views.inquiry_lose_view, name="inquiry_lose"),
    path("quotations/", views.quotation_list_view, name="quotations"),
    path("quotations/export/", views.quotation_export_view, name="quotations_export"),
    path("quotations/new/", views.quotation_create_view, name="quotation_create"),
    path("quotations/line-price/", views.line_price_view, name="line_price"),
    path("quotations/<int:pk>/", views.quotation_detail_view, name="quotation_detail"),
    path("quotations/<int:pk>/edit/", views.quotation_edit_view, name="quotation_edit"),
    path("quotations/<int:pk>/pdf/", views.quotation_pdf_view, name="quotation_pdf"),
    path("quotations/<int:pk>/submit/", views.quotation_submit_view, name="quotation_submit"),
    path("quotations/<int:pk>/send/", views.quotation_send_view, name="quotation_send"),
    path("quotations/<int:pk>/accept/", views.quotation_accept_view, name="quotation_accept"),
    path("quotations/<int:pk>/decline/", views.quotation_decline_view, name="quotation_decline"),
    path("quotations/<int:pk>/revise/", views.quotation_revise_view, name="quotation_revise"),
    path("quotations/<int:pk>/copy/", views.quotation_copy_view, name="quotation_copy"),
    path("quotations/<int:pk>/cancel/", views.quotation_cancel_view, name="quotation_cancel"),
    path("quotations/<int:pk>/order/", views.quotation_order_view, name="quotation_order"),
    path("orders/", views.order_list_view, name="orders"),
    path("orders/export/", views.order_export_view, name="orders_export"),
    path("orders/new/", views.order_create_view, name="order_create"),
    path("orders/<int:pk>/", views.order_detail_view, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit_view, name="order_edit"),
    path("orders/<int:pk>/submit/", views.order_submit_view, name="order_submit"),
    path("orders/<int:pk>/amend/", views.order_amend_view, name="order_amend"),
    path("orders/<int:pk>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("approvals/", views.approval_queue_view, name="approvals"),
    path("approvals/<int:pk>/approve/", views.approval_approve_view, name="approval_approve"),
    path("approvals/<int:pk>/reject/", views.approval_reject_view, name="approval_reject"),
    path("policies/", views.policy_list_view, name="policies"),
    path("policies/new/", views.policy_edit_view, name="policy_create"),
    path("policies/<int:pk>/edit/", views.policy_edit_view, name="policy_edit"),
    path("policies/<int:pk>/deactivate/", views.policy_deactivate_view, name="policy_deactivate"),
]
