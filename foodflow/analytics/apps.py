from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "foodflow.analytics"
    label = "analytics"
    verbose_name = _("Analysis and performance")

    def ready(self):
        from foodflow.catalog.signals import product_recategorised
        from foodflow.sales.workflows import ORDER_FLOW

        from . import monitoring, permissions  # noqa: F401  (notification kinds; the codes and their grants)
        from .rollup import order_moved, product_recategorised_receiver

        ORDER_FLOW.listen(order_moved)  # the sales figures change in the order's own transaction
        product_recategorised.connect(product_recategorised_receiver, dispatch_uid="analytics.recategorised")
