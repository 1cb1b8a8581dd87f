from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "foodflow.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from . import notices, panels, services, tasks  # noqa: F401  (approvable, kinds, customer panel, jobs)
        from .selectors import register_search

        register_search()
