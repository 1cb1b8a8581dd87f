from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "foodflow.service"
    label = "service"
    verbose_name = _("After-sales")

    def ready(self):
        from . import notices, permissions, remedies, tasks  # noqa: F401  (kinds, codes, the credit approvable, jobs)
