from django.urls import path

from . import views_admin as admin
from . import views_contracts as views

app_name = "contracts"

urlpatterns = [
    path("", views.ledger_view, name="ledger"),
    path("export/", views.ledger_export_view, name="export"),
    path("to-draft/", views.to_draft_view, name="to_draft"),
    path("to-draft/export/", views.to_draft_export_view, name="to_draft_export"),
    path("new/", views.draft_view, name="draft"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/edit/", views.edit_view, name="edit"),
    path("<int:pk>/submit/", views.submit_view, name="submit"),
    path("<int:pk>/comment/", views.comment_view, name="comment"),
    path("<int:pk>/review/", views.review_view, name="review"),
    path("<int:pk>/sign/", views.sign_view, name="sign"),
    path("<int:pk>/amend/", views.amend_view, name="amend"),
    path("<int:pk>/cancel/", views.cancel_view, name="cancel"),
    path("<int:pk>/terminate/", views.terminate_view, name="terminate"),
    path("<int:pk>/fulfil/", views.fulfil_view, name="fulfil"),
    path("<int:pk>/orders/", views.link_order_view, name="link_order"),
    # an order number may hold a slash (one imported from a previous system: SO/2019/001)
    path("<int:pk>/orders/<path:number>/unlink/", views.unlink_order_view, name="unlink_order"),
    path("<int:pk>/diff/", views.diff_view, name="diff"),
    path("<int:pk>/pdf/", views.pdf_view, name="pdf"),
    path("<int:pk>/scan/", views.scan_view, name="scan"),
    path("review/", admin.review_queue_view, name="review_queue"),
    path("templates/", admin.templates_view, name="templates"),
    path("templates/new/", admin.template_new_view, name="template_new"),
    path("templates/<int:pk>/", admin.template_detail_view, name="template_detail"),
    path("templates/<int:pk>/edit/", admin.template_edit_view, name="template_edit"),
    path("templates/<int:pk>/active/", admin.template_active_view, name="template_active"),
    path("disputes/", admin.disputes_view, name="disputes"),
    path("disputes/export/", admin.disputes_export_view, name="disputes_export"),
    path("<int:pk>/disputes/new/", admin.dispute_new_view, name="dispute_new"),
    path("disputes/<int:pk>/", admin.dispute_detail_view, name="dispute_detail"),
    path("disputes/<int:pk>/action/", admin.dispute_action_view, name="dispute_action"),
    path("disputes/<int:pk>/resolve/", admin.dispute_resolve_view, name="dispute_resolve"),
    path("disputes/<int:pk>/reopen/", admin.dispute_reopen_view, name="dispute_reopen"),
    path("disputes/<int:pk>/close/", admin.dispute_close_view, name="dispute_close"),
    path("risks/", admin.risks_view, name="risks"),
    path("risks/export/", admin.risks_export_view, name="risks_export"),
    path("risks/<int:pk>/acknowledge/", admin.risk_acknowledge_view, name="risk_acknowledge"),
    path("risks/evaluate/", admin.risk_evaluate_view, name="risk_evaluate"),
    path("risks/policy/", admin.risk_policy_view, name="risk_policy"),
]
