from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from foodflow.accounts import api as accounts_api
from foodflow.analytics import api as analytics_api
from foodflow.analytics import api_finance as analytics_api_finance
from foodflow.analytics import api_monitoring as analytics_api_monitoring
from foodflow.analytics import api_targets as analytics_api_targets
from foodflow.catalog import api as catalog_api
from foodflow.contracts import api as contracts_api
from foodflow.crm import api as crm_api
from foodflow.inventory import api as inventory_api
from foodflow.sales import api as sales_api
from foodflow.service import api as service_api
from foodflow.service import api_feedback, api_settings, api_surveys

from . import views


class Router(DefaultRouter):
    # No format-suffix twins (`customers.json`): the API speaks JSON (`?format=` still picks a
    # renderer), and the viewsets whose handlers take no `format` argument answered the twins
    # with a server error.
    include_format_suffixes = False


router = Router()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("roles", accounts_api.RoleViewSet, basename="role")
router.register("org-units", accounts_api.OrgUnitViewSet, basename="org-unit")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("audit-entries", views.AuditEntryViewSet, basename="audit-entry")
# catalog
router.register("categories", catalog_api.CategoryViewSet, basename="category")
router.register("products", catalog_api.ProductViewSet, basename="product")
router.register("price-lists", catalog_api.PriceListViewSet, basename="price-list")
router.register("prices", catalog_api.PriceViewSet, basename="price")
# inventory
router.register("warehouses", inventory_api.WarehouseViewSet, basename="warehouse")
router.register("lots", inventory_api.LotViewSet, basename="lot")
router.register("stock-balances", inventory_api.StockBalanceViewSet, basename="stock-balance")
router.register("stock-moves", inventory_api.StockMoveViewSet, basename="stock-move")
router.register("reservations", inventory_api.ReservationViewSet, basename="reservation")
router.register("near-expiry", inventory_api.NearExpiryViewSet, basename="near-expiry")
router.register("production-requests", inventory_api.ProductionRequestViewSet, basename="production-request")
# crm
router.register("customers", crm_api.CustomerViewSet, basename="customer")
router.register("leads", crm_api.LeadViewSet, basename="lead")
router.register("activities", crm_api.ActivityViewSet, basename="activity")
router.register("revisits", crm_api.RevisitViewSet, basename="revisit")
router.register("plans", crm_api.DevelopmentPlanViewSet, basename="plan")
router.register("market/competitors", crm_api.CompetitorViewSet, basename="competitor")
router.register("market/intel", crm_api.IntelEntryViewSet, basename="intel-entry")
router.register("market/demand", crm_api.DemandRecordViewSet, basename="demand-record")
router.register("market/reports", crm_api.ResearchReportViewSet, basename="research-report")
# sales
router.register("inquiries", sales_api.InquiryViewSet, basename="inquiry")
router.register("quotations", sales_api.QuotationViewSet, basename="quotation")
router.register("orders", sales_api.OrderViewSet, basename="sales-order")
router.register("approvals", sales_api.ApprovalViewSet, basename="approval")
router.register("approval-policies", sales_api.ApprovalPolicyViewSet, basename="approval-policy")
router.register("deliveries", sales_api.DeliveryViewSet, basename="delivery")
router.register("receivables", sales_api.ReceivableViewSet, basename="receivable")
router.register("payments", sales_api.PaymentViewSet, basename="payment")
router.register("returns", sales_api.ReturnViewSet, basename="customer-return")
router.register("credit-notes", sales_api.CreditNoteViewSet, basename="credit-note")
router.register("reconciliation", sales_api.ReconciliationViewSet, basename="reconciliation")
# contracts
router.register("contracts", contracts_api.ContractViewSet, basename="contract")
router.register("contract-templates", contracts_api.ContractTemplateViewSet, basename="contract-template")
router.register("contract-disputes", contracts_api.ContractDisputeViewSet, basename="contract-dispute")
router.register("contract-risks", contracts_api.ContractRiskViewSet, basename="contract-risk")
router.register("contract-review-queue", contracts_api.ContractReviewQueueViewSet, basename="contract-review-queue")
# after-sales
router.register("complaints", service_api.ComplaintViewSet, basename="complaint")
router.register("recalls", service_api.RecallViewSet, basename="recall")
for part in (api_surveys, api_settings, api_feedback):
    part.register(router)
# analysis and performance
for part in (analytics_api, analytics_api_targets, analytics_api_monitoring, analytics_api_finance):
    part.register(router)

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", accounts_api.TokenView.as_view(), name="api-token"),
    path("api/v1/search/", views.SearchView.as_view(), name="api-search"),
    path("api/v1/price-resolve/", catalog_api.PriceResolveView.as_view(), name="api-price-resolve"),
    path("api/v1/price-policy-check/", catalog_api.PricePolicyCheckView.as_view(), name="api-price-policy-check"),
    path("api/v1/receipts/", inventory_api.ReceiptView.as_view(), name="api-receipts"),
    path("api/v1/allocation-plan/", inventory_api.AllocationPlanView.as_view(), name="api-allocation-plan"),
    path("api/v1/capacity/earliest/", inventory_api.CapacityEarliestView.as_view(), name="api-capacity-earliest"),
    path("api/v1/market/stale/", crm_api.MarketStaleView.as_view(), name="api-market-stale"),
    path(
        "api/v1/contract-risk-policy/",
        contracts_api.ContractRiskPolicyView.as_view(),
        name="api-contract-risk-policy",
    ),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its start-up script as a file (?script), not inline: the CSP allows no inline script
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]
