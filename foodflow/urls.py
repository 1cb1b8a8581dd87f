from django.urls import include, path

from foodflow.web import views as web_views

urlpatterns = [
    path("", include("foodflow.web.urls")),
    path("accounts/", include("foodflow.accounts.urls")),
    path("catalog/", include("foodflow.catalog.urls")),
    path("stock/", include("foodflow.inventory.urls")),
    path("crm/", include("foodflow.crm.urls")),
    path("sales/", include("foodflow.sales.urls")),
    path("contracts/", include("foodflow.contracts.urls")),
    path("service/", include("foodflow.service.urls")),
    path("feedback/", include("foodflow.service.urls_feedback")),
    path("analytics/", include("foodflow.analytics.urls")),
    path("imports/", include("foodflow.imports.urls")),
    path("s/", include("foodflow.service.urls_public")),  # no login: surveys, the complaint form
    path("", include("foodflow.api.urls")),
    path("healthz", web_views.healthz_view, name="healthz"),
    path("readyz", web_views.readyz_view, name="readyz"),
]

handler403 = "foodflow.web.views.forbidden_view"
handler404 = "foodflow.web.views.not_found_view"
handler500 = "foodflow.web.views.server_error_view"
