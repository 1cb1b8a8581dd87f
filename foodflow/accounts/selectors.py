"""Reads of the accounts domain."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodflow.core.search import SearchHit, SearchProvider, register_provider

from .models import OrgUnit, Role, User
from .permissions import USERS_VIEW, can_manage_users, scoped


def users_visible_to(user) -> QuerySet[User]:
    """The users ``user`` may see in the directory: all for managers of users, else by scope."""
    base = User.objects.select_related("org_unit").prefetch_related("roles")
    if can_manage_users(user):
        return base
    return scoped(user, USERS_VIEW, base, owner="self")


def users_search(queryset: QuerySet[User], query: str) -> QuerySet[User]:
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(
        Q(username__icontains=query)
        | Q(full_name__icontains=query)
        | Q(email__icontains=query)
        | Q(phone__icontains=query)
        | Q(org_unit__name__icontains=query)
    )


def org_units_tree() -> list[OrgUnit]:
    return list(OrgUnit.objects.select_related("manager", "parent").order_by("path"))


def roles_all() -> QuerySet[Role]:
    return Role.objects.order_by("id")


def _search_users(user, query: str, limit: int) -> list[SearchHit]:
    hits = users_search(users_visible_to(user), query)[:limit]
    return [
        SearchHit(
            title=u.display_name,
            subtitle=f"{u.username} · {u.org_unit or ''}",
            url=reverse("accounts:user_detail", args=[u.pk]),
            icon="ti-user",
        )
        for u in hits
    ]


register_provider(SearchProvider(code="users", label=_("Users"), search=_search_users))
