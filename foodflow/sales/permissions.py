"""Permission codes and predicates of order to cash.

A document is in a user's scope through its owner (the rep) or the customer's region, with
the data scope of the role that grants the code: reps their own, managers their team's,
directors, planners and finance all. Lists, pages, PDFs, API and exports ask these."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm, in_scope, perm_scope, scoped
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import Scope, declare

AREA = _("Order to cash")
DOCS_VIEW = declare("sales.view_documents", _("View inquiries, quotations, orders and deliveries"), AREA)
DOCS_MANAGE = declare("sales.manage_documents", _("Create and edit inquiries, quotations and orders"), AREA)
APPROVE = declare("sales.approve", _("Approve documents within one's authority"), AREA)
REVIEW = declare("sales.review_orders", _("Review orders: stock, capacity, credit"), AREA)
DELIVER = declare("sales.manage_deliveries", _("Plan and ship deliveries"), AREA)
RECEIVABLES = declare("sales.manage_receivables", _("Record VAT invoices, payments and write-offs"), AREA)
RECEIVABLES_VIEW = declare("sales.view_receivables", _("View receivables and payments"), AREA)
RETURNS = declare("sales.manage_returns", _("Record customer returns and credit notes"), AREA)
POLICIES = declare("sales.manage_policies", _("Set approval policies"), AREA)

grant_by_default(
    {
        "rep": [DOCS_VIEW, DOCS_MANAGE, RECEIVABLES_VIEW],
        "manager": [DOCS_VIEW, DOCS_MANAGE, APPROVE, RECEIVABLES_VIEW],
        "director": [DOCS_VIEW, DOCS_MANAGE, APPROVE, RECEIVABLES_VIEW],
        "planner": [DOCS_VIEW, REVIEW, DELIVER],
        "finance": [DOCS_VIEW, RECEIVABLES, RECEIVABLES_VIEW, RETURNS],
        "contract_admin": [DOCS_VIEW, RECEIVABLES_VIEW],
        "service": [DOCS_VIEW, RETURNS],
        "qa": [DOCS_VIEW],
        "admin": [DOCS_VIEW, POLICIES],
    }
)

# a document's owner is its rep; the customer's region also brings it into a region scope
DOC_SCOPE = {"owner": "owner", "unit": "customer__region"}


def docs_in_scope(user, queryset, code: str = DOCS_VIEW):
    return scoped(user, code, queryset, **DOC_SCOPE)


def _doc_in_scope(user, code: str, doc) -> bool:
    scope = perm_scope(user, code)
    if scope is None:
        return False
    # the common cases answer without loading the owner and the customer's region
    if scope == Scope.ALL or doc.owner_id == getattr(user, "pk", None):
        return True
    return in_scope(user, code, owner=doc.owner, unit=doc.customer.region)


def can_view_sales(user) -> bool:
    return has_perm(user, DOCS_VIEW)


def can_view_doc(user, doc) -> bool:
    return _doc_in_scope(user, DOCS_VIEW, doc)


def can_create_docs(user) -> bool:
    return has_perm(user, DOCS_MANAGE)


def can_manage_doc(user, doc) -> bool:
    return _doc_in_scope(user, DOCS_MANAGE, doc)


def can_approve(user) -> bool:
    return has_perm(user, APPROVE)


def can_approve_for(user, *, owner, unit) -> bool:
    return in_scope(user, APPROVE, owner=owner, unit=unit)


def can_review_orders(user) -> bool:
    return has_perm(user, REVIEW)


def can_manage_deliveries(user) -> bool:
    return has_perm(user, DELIVER)


def can_view_receivables(user) -> bool:
    return has_perm(user, RECEIVABLES_VIEW) or has_perm(user, RECEIVABLES)


def receivables_in_scope(user, queryset):
    """Finance sees every receivable; a rep those of their own documents."""
    if has_perm(user, RECEIVABLES):
        return queryset
    return scoped(user, RECEIVABLES_VIEW, queryset, **DOC_SCOPE)


def payments_in_scope(user, queryset):
    """Finance sees every payment; whoever sees receivables sees the payments of the
    customers in their scope (a payment belongs to a customer, not to a rep)."""
    if has_perm(user, RECEIVABLES):
        return queryset
    return scoped(user, RECEIVABLES_VIEW, queryset, owner="customer__owner", unit="customer__region")


def can_view_receivable(user, invoice) -> bool:
    """The object-level twin of ``receivables_in_scope``."""
    return has_perm(user, RECEIVABLES) or in_scope(
        user, RECEIVABLES_VIEW, owner=invoice.owner, unit=invoice.customer.region
    )


def can_view_payment(user, payment) -> bool:
    """The object-level twin of ``payments_in_scope``."""
    customer = payment.customer
    return has_perm(user, RECEIVABLES) or in_scope(user, RECEIVABLES_VIEW, owner=customer.owner, unit=customer.region)


def can_open_review(user) -> bool:
    # finance opens the review screen of a credit-held order to ask for the block to be lifted
    return has_perm(user, REVIEW) or has_perm(user, RECEIVABLES)


def can_reconcile(user) -> bool:
    return has_perm(user, RECEIVABLES) or has_perm(user, APPROVE)


def can_manage_receivables(user) -> bool:
    return has_perm(user, RECEIVABLES)


def can_manage_returns(user) -> bool:
    return has_perm(user, RETURNS)


def can_manage_policies(user) -> bool:
    return has_perm(user, POLICIES)
