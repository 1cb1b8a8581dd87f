from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "foodflow.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self):
        from . import kinds, permissions  # noqa: F401  (the import kinds; the codes and their grants)
