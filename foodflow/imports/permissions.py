"""Permission codes of imports: who may take files in (each kind also asks its domain's own
permission, e.g. creating customers)."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import declare

AREA = _("Imports")
RUN = declare("imports.run", _("Import files (customers, products, prices, stock, orders)"), AREA)

grant_by_default({role: [RUN] for role in ("admin", "director", "manager")})


def can_import(user) -> bool:
    return has_perm(user, RUN)
