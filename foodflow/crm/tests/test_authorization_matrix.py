"""Every role × every way of reaching a customer × whose customer it is.

The expected scope of each role is written here from DESIGN.md, not derived from the code:
reps see their own customers, managers their team's, directors and the back-office roles
all, and roles without customer work none at all."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from conftest import PASSWORD
from foodflow.crm.services import customer_create

# role → which customers it reaches: own / team / region / all / none
EXPECTED_SCOPE = {
    "rep": "own",
    "manager": "team",
    "director": "all",
    "analyst": "all",
    "contract_admin": "all",
    "finance": "all",
    "service": "all",
    "admin": "all",
    "legal": "none",
    "planner": "none",
    "qa": "none",
}
MAY_EXPORT = {"manager", "director", "admin"}
# the customer's owner relative to the acting user (who sits in team EAST-1 of region EAST)
OWNERS = {"own": None, "teammate": "EAST-1", "other_team": "EAST-2", "other_region": "SOUTH-1"}
REACHES = {
    "own": {"own"},
    "team": {"own", "teammate"},
    "region": {"own", "teammate", "other_team"},
    "all": {"own", "teammate", "other_team", "other_region"},
    "none": set(),
}


@pytest.fixture
def world(make_user, org):
    """For each role: a user in EAST-1 and four customers, one per relation."""
    owners = {relation: make_user("rep", unit=unit) for relation, unit in OWNERS.items() if unit}
    cases = {}
    for role in EXPECTED_SCOPE:
        user = make_user(role, unit="EAST-1")
        customers = {}
        for relation in OWNERS:
            owner = user if relation == "own" else owners[relation]
            region = org["SOUTH"] if relation == "other_region" else org["EAST"]
            customers[relation] = customer_create(
                by=None,
                confirm_duplicate=True,
                name=f"{role}-{relation}-客户",
                channel="retail",
                region=region,
                owner=owner,
            )
        cases[role] = (user, customers)
    return cases


def login(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


@pytest.mark.parametrize("role", sorted(EXPECTED_SCOPE))
def test_customer_access_matrix(world, role):
    user, customers = world[role]
    client = login(user)
    reach = REACHES[EXPECTED_SCOPE[role]]
    names = {relation: customer.name for relation, customer in customers.items()}

    list_page = client.get("/crm/customers/", {"q": f"{role}-"})
    api_list = client.get("/api/v1/customers/", {"q": f"{role}-", "page_size": 50})
    export = client.get("/crm/customers/export.xlsx", {"q": f"{role}-"})
    if not reach:
        assert list_page.status_code == 403 and api_list.status_code == 403 and export.status_code == 403
    else:
        html = list_page.content.decode()
        assert {r for r, name in names.items() if name in html} == reach, "list"
        api_names = {row["name"] for row in api_list.json()["results"]}
        assert {r for r, name in names.items() if name in api_names} == reach, "API list"
        if role in MAY_EXPORT:
            sheet = load_workbook(io.BytesIO(export.content)).active
            exported = {cell for row in sheet.iter_rows(values_only=True) for cell in row}
            assert {r for r, name in names.items() if name in exported} == reach, "export"
        else:
            assert export.status_code == 403, "export"

    for relation, customer in customers.items():
        allowed = relation in reach
        detail = client.get(f"/crm/customers/{customer.pk}/")
        assert detail.status_code == (200 if allowed else 403), ("detail", relation)
        api_detail = client.get(f"/api/v1/customers/{customer.pk}/")
        assert api_detail.status_code == (200 if allowed else (404 if reach else 403)), ("API detail", relation)
        # the page repeats the query: look for the link to the customer, not its name
        found = f"/crm/customers/{customer.pk}/" in client.get("/search/", {"q": customer.name}).content.decode()
        assert found is allowed, ("search", relation)
        api_found = any(
            hit["title"] == customer.name
            for hit in client.get("/api/v1/search/", {"q": customer.name}).json()["results"]
        )
        assert api_found is allowed, ("API search", relation)


def test_a_region_scope_reaches_the_other_teams_of_the_region(world):
    from foodflow.accounts.models import Role

    Role.objects.filter(code="manager").update(scope="region")
    user, customers = world["manager"]
    client = login(user)
    for relation, customer in customers.items():
        expected = 200 if relation in REACHES["region"] else 403
        assert client.get(f"/crm/customers/{customer.pk}/").status_code == expected, relation


def test_exports_are_audited(world):
    from foodflow.core.models import AuditEntry

    user, _customers = world["director"]
    assert login(user).get("/crm/customers/export.xlsx").status_code == 200
    assert AuditEntry.objects.filter(action="crm.customers_exported", actor=user).exists()
