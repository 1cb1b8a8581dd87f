from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "foodflow.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self):
        from . import navigation  # noqa: F401  (registers the menu search provider)
