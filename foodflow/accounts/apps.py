from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "foodflow.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Declares this domain's permission codes and its search provider.
        from . import permissions, selectors  # noqa: F401
