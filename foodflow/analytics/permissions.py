"""Permission codes and predicates of analysis and performance.

The process map shows counts per state over every document, whatever the viewer's data
scope: it is an aggregate. The lists it links to apply their own scopes."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import declare

AREA = _("Analysis and performance")
VIEW_PROCESS = declare("analytics.view_process", _("View the process map and its standards"), AREA)

grant_by_default({role: [VIEW_PROCESS] for role in ("manager", "director", "analyst", "admin")})


def can_view_process(user) -> bool:
    return has_perm(user, VIEW_PROCESS)
