from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "foodflow.crm"
    label = "crm"
    verbose_name = _("Customers and market")

    def ready(self):
        from . import notifications, permissions, selectors  # noqa: F401  (kinds, codes, search provider)
