from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "foodflow.analytics"
    label = "analytics"
    verbose_name = _("Analysis and performance")

    def ready(self):
        from . import permissions  # noqa: F401  (the codes and their default grants)
