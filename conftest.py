"""Fixtures shared by every domain's tests. Tests run on the real database named by
DATABASE_URL (SQLite by default, PostgreSQL in CI's second run)."""

import pytest
from django.db import connection

from foodflow.accounts.models import OrgUnit, Role, User
from foodflow.accounts.roles import builtin_roles_ensure
from foodflow.accounts.services import org_unit_create

PASSWORD = "Correct-Horse-42"


def pytest_collection_modifyitems(config, items):
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (CI's second run sets DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def org(db):
    """company → two regions → teams, as a dict by code."""
    units = {}
    for code, kind, parent in [
        ("HQ", OrgUnit.Kind.COMPANY, None),
        ("EAST", OrgUnit.Kind.REGION, "HQ"),
        ("SOUTH", OrgUnit.Kind.REGION, "HQ"),
        ("EAST-1", OrgUnit.Kind.TEAM, "EAST"),
        ("EAST-2", OrgUnit.Kind.TEAM, "EAST"),
        ("SOUTH-1", OrgUnit.Kind.TEAM, "SOUTH"),
    ]:
        units[code] = org_unit_create(by=None, code=code, name=code, kind=kind, parent=units.get(parent))
    return units


@pytest.fixture
def make_user(db, org):
    # Built-in roles come from a migration; a transactional test's flush removes them.
    builtin_roles_ensure(Role)
    counter = iter(range(1, 10_000))

    def make(*roles: str, unit: str = "EAST-1", username: str | None = None, **fields) -> User:
        user = User.objects.create_user(
            username or f"user{next(counter)}", password=PASSWORD, org_unit=org[unit] if unit else None, **fields
        )
        user.roles.set(Role.objects.filter(code__in=roles))
        return user

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", unit="HQ", username="boss", email="boss@example.com")


@pytest.fixture
def rep(make_user):
    return make_user("rep", username="rep_east1")


@pytest.fixture
def client_of(client):
    """A test client logged in as the given user (through the real login page)."""
    from django.test import Client

    def login(user, **kwargs):
        c = Client(**kwargs)
        response = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return c

    return login
