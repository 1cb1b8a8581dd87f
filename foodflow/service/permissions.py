"""Permission codes and predicates of after-sales.

A complaint is in a user's scope through its owner (the service agent handling it) or the
customer's region, with the data scope of the role that grants the code: the service desk,
QA and directors see all; managers their team's customers' complaints (by region)."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm, perm_scope, scoped
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import Scope, declare

AREA = _("After-sales")
VIEW = declare("service.view_complaints", _("View complaints and service tickets"), AREA)
MANAGE = declare("service.manage_complaints", _("Log, assign and handle complaints"), AREA)
SLA = declare("service.manage_sla", _("Set service hours, holidays and SLAs"), AREA)
RECALL = declare("service.recall", _("Hold and recall lots, run recall drills"), AREA)

grant_by_default(
    {
        "service": [VIEW, MANAGE],
        "qa": [VIEW, RECALL],
        "manager": [VIEW],
        "director": [VIEW],
        "rep": [VIEW],
        "admin": [VIEW, SLA],
    }
)

COMPLAINT_SCOPE = {"owner": "owner", "unit": "customer__region"}


def complaints_in_scope(user, queryset, code: str = VIEW):
    return scoped(user, code, queryset, **COMPLAINT_SCOPE)


def _in_scope(user, code: str, complaint) -> bool:
    scope = perm_scope(user, code)
    if scope is None:
        return False
    if scope == Scope.ALL or complaint.owner_id == getattr(user, "pk", None):
        return True
    from foodflow.accounts.permissions import in_scope

    customer = complaint.customer
    return in_scope(user, code, owner=complaint.owner, unit=customer.region if customer is not None else None)


def can_view_complaints(user) -> bool:
    return has_perm(user, VIEW)


def can_view_complaint(user, complaint) -> bool:
    return _in_scope(user, VIEW, complaint)


def can_log_complaints(user) -> bool:
    return has_perm(user, MANAGE)


def can_manage_complaint(user, complaint) -> bool:
    return _in_scope(user, MANAGE, complaint)


def can_manage_sla(user) -> bool:
    return has_perm(user, SLA)


def can_recall(user) -> bool:
    return has_perm(user, RECALL)


def can_trace_lots(user) -> bool:
    """Recalls and a lot's forward trace name customers' contacts and phones: QA and the
    service desk read them, not everyone who sees complaints."""
    return can_recall(user) or can_log_complaints(user)
