"""Data scopes: own / team / region / all, checked through the permission module."""

import pytest

from foodflow.accounts.models import Role, User
from foodflow.accounts.permissions import USERS_VIEW, can_view_user, perm_scope, scoped
from foodflow.core.permissions import Scope


@pytest.fixture
def people(make_user):
    return {
        "rep_e1": make_user("rep", unit="EAST-1"),
        "rep_e2": make_user("rep", unit="EAST-2"),
        "rep_s1": make_user("rep", unit="SOUTH-1"),
        "manager_e1": make_user("manager", unit="EAST-1"),
        "director": make_user("director", unit="HQ"),
    }


def visible(user) -> set[int]:
    return set(scoped(user, USERS_VIEW, User.objects.all(), owner="self").values_list("pk", flat=True))


def test_a_team_manager_sees_their_team_only(people):
    manager = people["manager_e1"]
    assert perm_scope(manager, USERS_VIEW) == Scope.TEAM
    assert visible(manager) == {people["rep_e1"].pk, manager.pk}
    assert can_view_user(manager, people["rep_e1"]) and not can_view_user(manager, people["rep_e2"])


def test_a_region_scope_covers_every_team_of_the_region(people):
    manager = people["manager_e1"]
    Role.objects.filter(code="manager").update(scope=Scope.REGION)
    manager = User.objects.get(pk=manager.pk)  # roles are cached per user object
    assert visible(manager) == {people["rep_e1"].pk, people["rep_e2"].pk, manager.pk}
    assert can_view_user(manager, people["rep_e2"]) and not can_view_user(manager, people["rep_s1"])


def test_all_scope_and_no_permission(people):
    assert visible(people["director"]) == set(User.objects.values_list("pk", flat=True))
    assert perm_scope(people["rep_e1"], USERS_VIEW) is None
    assert visible(people["rep_e1"]) == set()


def test_the_widest_scope_of_several_roles_wins(people):
    rep = people["rep_e1"]
    rep.roles.add(Role.objects.get(code="manager"))
    rep = User.objects.get(pk=rep.pk)
    assert perm_scope(rep, USERS_VIEW) == Scope.TEAM


def test_inactive_users_have_no_permission(people):
    director = people["director"]
    director.is_active = False
    director.save(update_fields=["is_active"])
    assert perm_scope(User.objects.get(pk=director.pk), USERS_VIEW) is None
