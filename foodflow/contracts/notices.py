"""Inbox kinds of contracts."""

from django.utils.translation import gettext_lazy

from foodflow.core.notifications import NotificationKind, register_kind

RISK_RAISED = register_kind(
    NotificationKind(
        code="contract_risk",
        label=gettext_lazy("A risk warning was raised on a contract of yours"),
        title=gettext_lazy("%(contract)s: %(rule)s"),
        body=gettext_lazy("%(customer)s. %(message)s"),
    )
)
