"""Permission codes and predicates of contracts.

A contract is in a user's scope through its owner (the rep of the customer) or the
customer's region, with the data scope of the role that grants the code: reps see their
own customers' contracts, managers their team's; contract admins, legal, finance and
directors all. Lists, pages, PDFs, exports and the API ask these."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm, in_scope, perm_scope, scoped
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import Scope, declare

from .workflows import SIGNED

AREA = _("Contracts")
VIEW = declare("contracts.view", _("View contracts, their fulfilment, disputes and risks"), AREA)
MANAGE = declare("contracts.manage", _("Draft, edit, sign and amend contracts; keep the ledger"), AREA)
REVIEW = declare("contracts.review", _("Review contracts: approve or return with comments"), AREA)
TEMPLATES = declare("contracts.manage_templates", _("Edit contract templates"), AREA)
DISPUTES = declare("contracts.manage_disputes", _("Open and handle contract disputes"), AREA)
RISK_POLICY = declare("contracts.manage_risk_policy", _("Set the contract risk policy"), AREA)
EXPORT = declare("contracts.export", _("Export the contract ledger"), AREA)

grant_by_default(
    {
        "rep": [VIEW],
        "manager": [VIEW],
        "director": [VIEW, REVIEW, EXPORT],
        "contract_admin": [VIEW, MANAGE, DISPUTES, EXPORT],
        "legal": [VIEW, REVIEW, TEMPLATES, DISPUTES, RISK_POLICY, EXPORT],
        "finance": [VIEW, EXPORT],
        "admin": [VIEW, TEMPLATES, RISK_POLICY],
    }
)

CONTRACT_SCOPE = {"owner": "owner", "unit": "customer__region"}


def contracts_in_scope(user, queryset, code: str = VIEW):
    return scoped(user, code, queryset, **CONTRACT_SCOPE)


def _in_scope(user, code: str, contract) -> bool:
    scope = perm_scope(user, code)
    if scope is None:
        return False
    if scope == Scope.ALL or contract.owner_id == getattr(user, "pk", None):
        return True
    return in_scope(user, code, owner=contract.owner, unit=contract.customer.region)


def can_view_contracts(user) -> bool:
    return has_perm(user, VIEW)


def can_view_contract(user, contract) -> bool:
    return _in_scope(user, VIEW, contract)


def can_draft_contracts(user) -> bool:
    return has_perm(user, MANAGE)


def can_draft_for(user, customer) -> bool:
    """A contract admin drafts for the customers in the scope of their drafting role."""
    return in_scope(user, MANAGE, owner=customer.owner, unit=customer.region)


def customers_to_draft_for(user, queryset):
    return scoped(user, MANAGE, queryset, owner="owner", unit="region")


def can_manage_contract(user, contract) -> bool:
    return _in_scope(user, MANAGE, contract)


def can_review_contracts(user) -> bool:
    return has_perm(user, REVIEW)


def can_review_contract(user, contract) -> bool:
    return _in_scope(user, REVIEW, contract)


def can_manage_templates(user) -> bool:
    return has_perm(user, TEMPLATES)


def can_manage_disputes(user) -> bool:
    return has_perm(user, DISPUTES)


def can_manage_dispute(user, dispute) -> bool:
    return _in_scope(user, DISPUTES, dispute.contract)


# a dispute concerns a contract that was signed
DISPUTABLE_STATES = SIGNED


def can_open_dispute(user, contract) -> bool:
    return contract.state in DISPUTABLE_STATES and _in_scope(user, DISPUTES, contract)


def can_set_risk_policy(user) -> bool:
    return has_perm(user, RISK_POLICY)


def can_export_contracts(user) -> bool:
    return has_perm(user, EXPORT)


def can_acknowledge_warning(user, warning) -> bool:
    """The warning's owner, or whoever manages the contract or reviews it."""
    if warning.owner_id == getattr(user, "pk", None):
        return can_view_contract(user, warning.contract)
    return can_manage_contract(user, warning.contract) or can_review_contract(user, warning.contract)
