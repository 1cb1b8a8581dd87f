"""Permission codes and predicates of after-sales.

A complaint is in a user's scope through its owner (the service agent handling it), the
customer's owner (the rep) or the customer's region, with the data scope of the role that
grants the code: the service desk, QA and directors see all; managers their team's customers'
complaints; reps their own customers'."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm, perm_scope, scoped
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import Scope, declare

AREA = _("After-sales")
VIEW = declare("service.view_complaints", _("View complaints and service tickets"), AREA)
MANAGE = declare("service.manage_complaints", _("Log, assign and handle complaints"), AREA)
SLA = declare("service.manage_sla", _("Set service hours, holidays and SLAs"), AREA)
RECALL = declare("service.recall", _("Hold and recall lots, run recall drills"), AREA)
FEEDBACK_AREA = _("Feedback and improvement")
SUGGESTIONS_MANAGE = declare(
    "feedback.manage_suggestions", _("Review and decide suggestions, read the monthly summary"), FEEDBACK_AREA
)

grant_by_default(
    {
        "service": [VIEW, MANAGE],
        "qa": [VIEW, RECALL],
        "manager": [VIEW, SUGGESTIONS_MANAGE],
        "rep": [VIEW],
        "admin": [VIEW, SLA, SUGGESTIONS_MANAGE],
        "director": [VIEW, SUGGESTIONS_MANAGE],
    }
)

COMPLAINT_SCOPE = {"owner": ("owner", "customer__owner"), "unit": "customer__region"}


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
    if customer is None:
        return in_scope(user, code, owner=complaint.owner)
    return in_scope(user, code, owner=(complaint.owner, customer.owner), unit=customer.region)


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


def can_suggest(user) -> bool:
    """Everyone who opens the feedback area submits and reads suggestions."""
    from foodflow.accounts.permissions import AREA_FEEDBACK

    return has_perm(user, AREA_FEEDBACK)


def can_manage_suggestions(user) -> bool:
    return has_perm(user, SUGGESTIONS_MANAGE)


def revisits_in_scope(user, queryset):
    """A rep sees the revisits they owe; managers their team's; the desk and directors all."""
    return scoped(user, VIEW, queryset, owner="owner", unit="customer__region")


def can_do_revisit(user, revisit) -> bool:
    return revisit.owner_id == getattr(user, "pk", None) or has_perm(user, MANAGE)


def can_manage_surveys(user) -> bool:
    """The service desk writes the questionnaires and sends them by hand."""
    return has_perm(user, MANAGE)
