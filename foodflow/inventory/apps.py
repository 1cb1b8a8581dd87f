from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "foodflow.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from . import notifications, permissions, selectors  # noqa: F401  (kinds, codes, search provider)
