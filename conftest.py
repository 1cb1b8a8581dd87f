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
    else:
        # CI runs the suite on both databases side by side. What does not depend on the database
        # (settings, logging, translations) runs once, in the SQLite run; so do the browser tests,
        # whose every step the HTTP tests also take on PostgreSQL.
        once = pytest.mark.skip(reason="does not depend on the database: runs in the SQLite run")
        for item in items:
            if "once" in item.keywords or "browser" in item.keywords or "browser" in getattr(item, "fixturenames", ()):
                item.add_marker(once)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright (never a downloaded browser). Seed data before
    asking for it: inside Playwright's event loop Django opens a second connection."""
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `./dev setup` (it installs the apt packages)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()  # what the test opened inside Playwright's loop


_demo_seeded: tuple[dict, dict] | None = None  # what demo_seed returned, every table's rows


@pytest.fixture(scope="module")
def seeded_company(django_db_setup, django_db_blocker):
    """The demo company for a test module, inside a transaction rolled back at the end; each test
    runs in a savepoint within it. Seeding it through the services takes tens of seconds, so the
    first module seeds and keeps every table's rows; the next ones get the same rows put back."""
    import copy

    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from foodflow.testing.snapshot import tables_restore, tables_snapshot
    from foodflow.web.demo import demo_seed

    global _demo_seeded
    with django_db_blocker.unblock(), transaction.atomic():
        if _demo_seeded is None:
            seeded = demo_seed()
            _demo_seeded = (seeded, tables_snapshot())
        else:
            tables_restore(_demo_seeded[1])
            ContentType.objects.clear_cache()  # a flush in between may have numbered them anew
        yield copy.deepcopy(_demo_seeded[0])
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded_company, db):
    """The seeded demo company (see ``seeded_company``)."""
    return seeded_company


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


# --- catalog and inventory ---------------------------------------------------------------------


@pytest.fixture
def category(db):
    from foodflow.catalog.services import category_create

    return category_create(by=None, code="dairy", name="乳制品", name_en="Dairy", expiry_warning_days=10)


@pytest.fixture
def make_product(db, category):
    from foodflow.catalog.services import family_for, product_create

    counter = iter(range(1, 10_000))

    def make(**fields):
        number = next(counter)
        defaults = {
            "sku": f"P{number:04d}",
            "name": f"纯牛奶{number}",
            "name_en": f"Milk {number}",
            "specification": "250ml×24",
            "category": category,
            "shelf_life_days": 180,
            "storage": "ambient",
            "vat_rate": "0.13",
            "family": family_for("uht-250"),
        }
        return product_create(by=None, **{**defaults, **fields})

    return make


@pytest.fixture
def warehouse(db):
    from foodflow.inventory.models import Warehouse

    return Warehouse.objects.create(code="SH-AMB", name="上海常温库", zone="ambient")


@pytest.fixture
def receive(db, warehouse):
    """receive(product, "L1", produced_days_ago=10, quantity=100) → the lot."""
    from datetime import timedelta

    from django.utils import timezone

    from foodflow.inventory.services import lot_receive

    def make(product, lot_number, *, produced_days_ago=10, quantity=100, into=None, expiry_date=None):
        produced = timezone.localdate() - timedelta(days=produced_days_ago)
        return lot_receive(
            by=None,
            product=product,
            lot_number=lot_number,
            warehouse=into or warehouse,
            quantity=quantity,
            production_date=produced,
            expiry_date=expiry_date,
        )

    return make
