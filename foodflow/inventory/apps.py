from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "foodflow.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from . import notifications, panels, permissions, selectors  # noqa: F401  (kinds, panels, codes, search provider)
