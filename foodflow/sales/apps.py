from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "foodflow.sales"
    label = "sales"
    verbose_name = _("Order to cash")

    def ready(self):
        # approvables register with the engine; kinds, codes and the revenue source register too
        from . import notices, panels, permissions, receivables, review, selectors, services  # noqa: F401
