from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from foodflow.accounts import api as accounts_api

from . import views

router = DefaultRouter()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("roles", accounts_api.RoleViewSet, basename="role")
router.register("org-units", accounts_api.OrgUnitViewSet, basename="org-unit")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("audit-entries", views.AuditEntryViewSet, basename="audit-entry")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", accounts_api.TokenView.as_view(), name="api-token"),
    path("api/v1/search/", views.SearchView.as_view(), name="api-search"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
