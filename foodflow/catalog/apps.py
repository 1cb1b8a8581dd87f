from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "foodflow.catalog"
    label = "catalog"
    verbose_name = _("Products and prices")

    def ready(self):
        from . import permissions, selectors  # noqa: F401  (permission codes, search provider)
