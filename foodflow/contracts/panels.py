"""What contracts add to other domains' pages: a customer's contracts (the current version of
each, as the ledger shows them) on the customer page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from foodflow.core.panels import Panel, register_panel

from .models import RiskWarning
from .permissions import can_view_contracts
from .selectors import ledger, warnings_in_scope

RECENT = 10


def customer_contracts(request, customer) -> dict | None:
    """The customer's latest contracts the user may see, and how many live risk warnings
    they carry."""
    user = request.user
    if not can_view_contracts(user):
        return None
    contracts = ledger(user, customer=customer)
    total = contracts.count()
    live = (RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)
    return {
        "contracts": list(contracts[:RECENT]),
        "total": total,
        "more": total > RECENT,
        "customer_code": customer.code,
        "live_warnings": warnings_in_scope(user).filter(customer=customer, state__in=live).count(),
    }


register_panel(
    "crm.customer",
    Panel(
        code="contracts",
        title=gettext_lazy("Contracts"),
        template="contracts/admin/panel_customer.html",
        context=customer_contracts,
        order=35,
    ),
)
