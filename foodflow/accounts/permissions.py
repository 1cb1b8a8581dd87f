"""The permission module: codes, data scopes and the predicates every view, API endpoint,
export and service asks. Other domains build their predicates (``can_view_customer``) from
``perm_scope`` / ``in_scope`` / ``scoped`` here."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from foodflow.core.permissions import AUDIT_VIEW, SCOPE_RANK, Scope, declare

from .models import OrgUnit

SYSTEM = _("System")
USERS_MANAGE = declare("accounts.manage_users", _("Manage users, roles and org units"), SYSTEM)
USERS_VIEW = declare("accounts.view_users", _("View the user directory"), SYSTEM)

# Opening each area of the navigation. The domains add finer codes as they are built.
AREA_MARKET = declare("market.access", _("Open market research"), _("Areas"))
AREA_CRM = declare("crm.access", _("Open customer development"), _("Areas"))
AREA_SALES = declare("sales.access", _("Open order to cash"), _("Areas"))
AREA_CONTRACTS = declare("contracts.access", _("Open contracts"), _("Areas"))
AREA_SERVICE = declare("service.access", _("Open after-sales"), _("Areas"))
AREA_ANALYTICS = declare("analytics.access", _("Open analysis and performance"), _("Areas"))
AREA_FEEDBACK = declare("feedback.access", _("Open feedback and improvement"), _("Areas"))


def user_roles(user) -> list:
    """The user's roles, loaded once per user object (a request reuses them)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_foodflow_roles", None)
    if cached is None:
        cached = list(user.roles.all())
        user._foodflow_roles = cached
    return cached


def role_codes(user) -> set[str]:
    return {role.code for role in user_roles(user)}


def perm_codes(user) -> set[str]:
    codes: set[str] = set()
    for role in user_roles(user):
        codes.update(role.permissions or ())
    return codes


def has_perm(user, code: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or code in perm_codes(user)


def perm_scope(user, code: str) -> Scope | None:
    """The widest data scope among the user's roles that grant ``code``; None if none do."""
    if not has_perm(user, code):
        return None
    if user.is_superuser:
        return Scope.ALL
    scopes = [Scope(role.scope) for role in user_roles(user) if code in (role.permissions or ())]
    return max(scopes, key=SCOPE_RANK.__getitem__)


def scope_root(user, scope: Scope) -> OrgUnit | None:
    """The org unit whose subtree a team or region scope covers."""
    unit = user.org_unit
    if unit is None or scope == Scope.TEAM:
        return unit
    while unit.kind != OrgUnit.Kind.REGION and unit.parent_id is not None:
        unit = unit.parent
    return unit


def scope_q(user, code: str, *, owner: str | tuple[str, ...] = "owner", unit: str | None = None) -> Q | None:
    """A filter for the objects ``user`` may reach with ``code``: None means nothing at all.

    ``owner`` names the user field of the object, or several (a complaint is its handler's and
    its customer's owner's); ``unit``, optionally, an org unit field (a customer's region) that
    also brings an object into team or region scope.
    """
    scope = perm_scope(user, code)
    if scope is None:
        return None
    if scope == Scope.ALL:
        return Q()
    # owner="self": the objects are users themselves (the user directory).
    owners = (owner,) if isinstance(owner, str) else owner
    mine = Q()
    for field in owners:
        mine |= Q(pk=user.pk) if field == "self" else Q(**{field: user})
    if scope == Scope.OWN:
        return mine
    root = scope_root(user, scope)
    if root is None:
        return mine
    q = mine
    for field in owners:
        unit_path = "org_unit__path__startswith" if field == "self" else f"{field}__org_unit__path__startswith"
        q |= Q(**{unit_path: root.path})
    if unit:
        q |= Q(**{f"{unit}__path__startswith": root.path})
    return q


def scoped(
    user, code: str, queryset: QuerySet, *, owner: str | tuple[str, ...] = "owner", unit: str | None = None
) -> QuerySet:
    q = scope_q(user, code, owner=owner, unit=unit)
    return queryset.none() if q is None else queryset.filter(q)


def in_scope(user, code: str, *, owner, unit: OrgUnit | None = None) -> bool:
    """The object-level twin of ``scope_q``, for one object already loaded (``owner``: a user
    or a tuple of them)."""
    scope = perm_scope(user, code)
    if scope is None:
        return False
    owners = [o for o in (owner if isinstance(owner, (list, tuple)) else (owner,)) if o is not None]
    if scope == Scope.ALL or any(o.pk == user.pk for o in owners):
        return True
    if scope == Scope.OWN:
        return False
    root = scope_root(user, scope)
    if root is None:
        return False
    units = [getattr(o, "org_unit", None) for o in owners] + [unit]
    return any(u is not None and u.path.startswith(root.path) for u in units)


# --- predicates of this domain ------------------------------------------------------------------


def can_manage_users(user) -> bool:
    return has_perm(user, USERS_MANAGE)


def can_view_user_directory(user) -> bool:
    return can_manage_users(user) or has_perm(user, USERS_VIEW)


def can_view_user(user, other) -> bool:
    if getattr(user, "pk", None) == other.pk or can_manage_users(user):
        return getattr(user, "is_authenticated", False)
    return in_scope(user, USERS_VIEW, owner=other)


def can_view_audit(user) -> bool:
    return has_perm(user, AUDIT_VIEW)


def can_access_area(user, code: str) -> bool:
    return has_perm(user, code)
