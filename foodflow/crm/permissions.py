"""Permission codes and predicates of customers, leads, activities and market research.

Reps see their own customers and leads, managers their team's, region heads their region's,
directors all: the data scope of the role that grants the code, applied by ``scoped`` and
``in_scope`` of the permission module, for lists, pages, search, API, exports and ids."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import AREA_CRM, AREA_MARKET, has_perm, in_scope, scoped
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import declare

AREA = _("Customers and market")
CUSTOMERS_VIEW = declare("crm.view_customers", _("View customers, contacts, leads and activities"), AREA)
CUSTOMERS_MANAGE = declare("crm.manage_customers", _("Create and edit customers, leads and activities"), AREA)
CREDIT_SET = declare("crm.set_credit", _("Set credit limits and payment terms"), AREA)
CUSTOMERS_EXPORT = declare("crm.export_customers", _("Export customer lists"), AREA)
PHONES_VIEW = declare("crm.view_phones", _("See contacts' full phone numbers"), AREA)
PLANS_MANAGE = declare("crm.manage_plans", _("Set development plans"), AREA)
MARKET_VIEW = declare("market.view_research", _("View market research"), AREA)
MARKET_MANAGE = declare("market.manage_research", _("Record market research"), AREA)

grant_by_default(
    {
        "rep": [CUSTOMERS_VIEW, CUSTOMERS_MANAGE, PHONES_VIEW, MARKET_VIEW],
        "manager": [
            CUSTOMERS_VIEW,
            CUSTOMERS_MANAGE,
            PHONES_VIEW,
            CUSTOMERS_EXPORT,
            PLANS_MANAGE,
            MARKET_VIEW,
            MARKET_MANAGE,
        ],
        "director": [
            CUSTOMERS_VIEW,
            CUSTOMERS_MANAGE,
            PHONES_VIEW,
            CUSTOMERS_EXPORT,
            PLANS_MANAGE,
            MARKET_VIEW,
            MARKET_MANAGE,
        ],
        "analyst": [CUSTOMERS_VIEW, MARKET_VIEW, MARKET_MANAGE, AREA_MARKET],
        "finance": [CUSTOMERS_VIEW, CREDIT_SET, PHONES_VIEW],
        "contract_admin": [CUSTOMERS_VIEW, PHONES_VIEW],
        "service": [CUSTOMERS_VIEW, PHONES_VIEW],
        "admin": [CUSTOMERS_VIEW, CUSTOMERS_MANAGE, CUSTOMERS_EXPORT, PLANS_MANAGE, MARKET_VIEW, AREA_CRM],
    }
)

CUSTOMER_SCOPE = {"owner": "owner", "unit": "region"}


def customers_in_scope(user, queryset, code: str = CUSTOMERS_VIEW):
    return scoped(user, code, queryset, **CUSTOMER_SCOPE)


def can_view_customer(user, customer) -> bool:
    return in_scope(user, CUSTOMERS_VIEW, owner=customer.owner, unit=customer.region)


def can_manage_customer(user, customer) -> bool:
    return in_scope(user, CUSTOMERS_MANAGE, owner=customer.owner, unit=customer.region)


def can_create_customers(user) -> bool:
    return has_perm(user, CUSTOMERS_MANAGE)


def can_view_customers(user) -> bool:
    return has_perm(user, CUSTOMERS_VIEW)


def can_set_credit(user) -> bool:
    return has_perm(user, CREDIT_SET)


def can_export_customers(user) -> bool:
    return has_perm(user, CUSTOMERS_EXPORT)


def can_see_phone(user, customer) -> bool:
    return in_scope(user, PHONES_VIEW, owner=customer.owner, unit=customer.region)


def can_view_lead(user, lead) -> bool:
    return in_scope(user, CUSTOMERS_VIEW, owner=lead.owner, unit=lead.region)


def can_manage_lead(user, lead) -> bool:
    return in_scope(user, CUSTOMERS_MANAGE, owner=lead.owner, unit=lead.region)


def can_manage_plans(user) -> bool:
    return has_perm(user, PLANS_MANAGE)


def can_view_market(user) -> bool:
    return has_perm(user, MARKET_VIEW)


def can_manage_market(user) -> bool:
    return has_perm(user, MARKET_MANAGE)


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 2
    return f"{digits[:keep]}{'*' * (len(digits) - keep - 4)}{digits[-4:]}"
