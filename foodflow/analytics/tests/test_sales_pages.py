"""The analysis page, the drill-down, the Excel export and the figures API: who may read them, the
data scope of each reader, and the same numbers everywhere."""

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.analytics.tests.test_rollup import place
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_create, customer_set_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_regions(world):
    south = customer_create(
        by=None,
        name="深圳福田鲜丰超市",
        channel="ka",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=world.other_rep,
        status="active",
    )
    south = customer_set_credit(by=None, customer=south, credit_limit=Decimal("900000"), payment_terms_days=30)
    east = place(world, [(world.milk, 10), (world.yoghurt, 3)], days_ago=3)
    south_order = place(world, [(world.milk, 4)], days_ago=2, customer=south, by=world.other_rep)
    return east, south_order


def api(client, query=""):
    response = client.get(f"/api/v1/analytics/revenue/{query}")
    return response.status_code, response.json()


def test_each_reader_gets_the_figures_of_their_scope_only(world, client_of, two_regions):
    east, south = two_regions
    expected = {world.rep: east.total, world.other_rep: south.total, world.director: east.total + south.total}
    for user, total in expected.items():
        status, body = api(client_of(user), "?by=rep")
        assert status == 200
        assert Decimal(body["total"]["revenue"]) == total
        assert sum(Decimal(row["revenue"]) for row in body["rows"]) == total
    # asking for another rep's figures gives nothing, not their figures
    status, body = api(client_of(world.rep), f"?by=customer&rep={world.other_rep.pk}")
    assert (status, body["total"]["revenue"], body["rows"]) == (200, "0.00", [])


@pytest.mark.parametrize("role", ["planner", "qa", "legal", "service"])
def test_roles_without_the_sales_figures_are_refused(make_user, client_of, role):
    client = client_of(make_user(role, unit="HQ"))
    assert client.get("/analytics/sales/").status_code == 403
    assert client.get("/analytics/sales/export/").status_code == 403
    assert client.get("/analytics/sales/documents/").status_code == 403
    assert client.get("/api/v1/analytics/revenue/").status_code == 403


def test_anonymous_readers_are_sent_to_the_login_or_refused(client):
    assert client.get("/analytics/sales/").status_code == 302
    assert client.get("/api/v1/analytics/revenue/").status_code in (401, 403)


def test_bad_queries_are_refused_with_a_code_and_the_fields(world, client_of):
    status, body = api(client_of(world.director), "?by=colour&date_from=2026-13-01&tier=Z&rep=abc")
    assert status == 400
    assert body["code"] == "invalid_query"
    assert set(body["fields"]) == {"by", "date_from", "tier", "rep"}
    status, body = api(client_of(world.director), "?date_from=2026-05-01&date_to=2026-04-01")
    assert (status, list(body["fields"])) == (400, ["date_to"])
    page = client_of(world.director).get("/analytics/sales/?date_from=nonsense")
    assert page.status_code == 200
    assert b'data-testid="query-errors"' in page.content


@pytest.mark.parametrize("by", ["period", "rep", "team", "region", "channel", "tier", "top_category", "product"])
def test_every_row_of_the_page_drills_down_to_documents_adding_up_to_it(world, client_of, two_regions, by):
    import re

    client = client_of(world.director)
    page = client.get(f"/analytics/sales/?by={by}").content.decode()
    rows = [
        r for r in re.findall(r'data-testid="sales-row" data-key="[^"]*" data-revenue="([^"]+)"', page) if Decimal(r)
    ]
    links = re.findall(r'href="(/analytics/sales/documents/\?[^"]+)" data-testid="drill-link"', page)
    assert rows and len(links) == len(rows)
    for revenue, link in zip(rows, links, strict=True):
        documents = client.get(link.replace("&amp;", "&")).content.decode()
        amounts = re.findall(r'data-testid="document-row" data-amount="([^"]+)"', documents)
        assert sum(Decimal(a) for a in amounts) == Decimal(revenue), (by, link)
        assert f'data-testid="documents-total" data-value="{revenue}"' in documents


def test_the_export_has_the_page_rows_and_is_audited(world, client_of, two_regions):
    east, south = two_regions
    response = client_of(world.director).get("/analytics/sales/export/?by=region")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3  # header and two regions
    assert sorted(Decimal(str(row[2])) for row in values[1:]) == sorted([east.total, south.total])
    entry = AuditEntry.objects.filter(action="analytics.sales_exported").get()
    assert entry.changes["filters"]["by"] == "region"


def test_trend_and_customers_endpoints_answer_in_the_scope(world, client_of, two_regions):
    east, _south = two_regions
    client = client_of(world.rep)
    trend = client.get("/api/v1/analytics/trend/").json()["rows"]
    assert sum(Decimal(row["revenue"]) for row in trend) == east.total
    months = client.get("/api/v1/analytics/customers/").json()["rows"]
    assert sum(row["new_customers"] for row in months) == 1


def test_the_months_carry_their_growth_on_the_month_before_and_a_year_earlier(world, client_of):
    from django.utils import timezone

    from foodflow.analytics.figures import add_months, month_range

    today = timezone.localdate()
    this_month = today.replace(day=1)
    now = place(world, [(world.milk, 12)], days_ago=0)
    before = place(world, [(world.milk, 8)], days_ago=(today - add_months(this_month, -1)).days)
    year_ago = place(world, [(world.milk, 10)], days_ago=(today - add_months(this_month, -12)).days)
    start = add_months(this_month, -2)
    page = client_of(world.director).get(
        f"/analytics/sales/?by=period&grain=month&date_from={start}&date_to={month_range(today)[1]}"
    )
    html = page.content.decode()
    rows = html.split('data-testid="sales-row"')[1:]
    assert len(rows) == 3
    last = rows[-1]

    def pct(now_total, base_total):
        return ((now_total - base_total) / base_total * 100).quantize(Decimal("0.1"))

    assert f'data-testid="row-mom" data-value="{pct(now.total, before.total)}"' in last
    assert f'data-testid="row-yoy" data-value="{pct(now.total, year_ago.total)}"' in last
