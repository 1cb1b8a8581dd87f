"""The role dashboards over HTTP: who opens which, the default of each role, and their figures
(equal to the analysis page's for the same viewer)."""

import json
import re
from decimal import Decimal

import pytest

from foodflow.analytics.tests.test_rollup import place

pytestmark = pytest.mark.django_db


def chart_specs(html: str) -> dict:
    found = re.findall(r'<script id="(chart-[a-z_]+)" type="application/json">(.*?)</script>', html, re.S)
    return {name: json.loads(body) for name, body in found}


@pytest.mark.parametrize(
    ("who", "default", "allowed", "refused"),
    [
        ("rep", "rep", {"rep"}, {"manager", "director", "finance", "service"}),
        ("manager", "manager", {"rep", "manager", "finance", "service"}, {"director"}),
        ("director", "director", {"rep", "manager", "director", "finance", "service"}, set()),
        ("finance", "finance", {"rep", "director", "finance", "manager"}, {"service"}),
    ],
)
def test_each_role_lands_on_its_dashboard_and_opens_only_its_own(
    world, make_user, client_of, who, default, allowed, refused
):
    user = {"rep": world.rep, "manager": world.manager, "director": world.director, "finance": world.finance}[who]
    place(world, [(world.milk, 10)], days_ago=1)
    client = client_of(user)
    landing = client.get("/analytics/dashboard/")
    assert landing.status_code == 302 and landing["Location"].endswith(f"/dashboard/{default}/")
    for code in allowed:
        page = client.get(f"/analytics/dashboard/{code}/")
        assert page.status_code == 200, code
        assert f'data-testid="dashboard-{code}"' in page.content.decode()
    for code in refused:
        assert client.get(f"/analytics/dashboard/{code}/").status_code == 403, code


def test_a_role_without_any_dashboard_is_refused(make_user, client_of):
    client = client_of(make_user("legal", unit="HQ"))
    assert client.get("/analytics/dashboard/").status_code == 403
    assert client.get("/analytics/dashboard/nonsense/").status_code == 403


def test_the_rep_dashboard_shows_ones_own_book_and_its_charts(world, client_of):
    mine = place(world, [(world.milk, 10), (world.yoghurt, 2)], days_ago=0)
    place(world, [(world.milk, 3)], days_ago=0, by=world.manager)  # the manager's own order, not the rep's
    html = client_of(world.rep).get("/analytics/dashboard/rep/").content.decode()
    value = re.search(r'data-testid="card-revenue_ytd" data-value="([^"]+)"', html).group(1)
    assert Decimal(value) == mine.total
    specs = chart_specs(html)
    assert {"chart-trend", "chart-mix", "chart-new_customers"} <= set(specs)
    assert sum(v or 0 for v in specs["chart-trend"]["series"][0]["data"]) == float(mine.total)


def test_the_director_dashboard_figures_equal_the_analysis_page(world, client_of):
    place(world, [(world.milk, 10), (world.yoghurt, 2)], days_ago=1)
    place(world, [(world.milk, 3)], days_ago=40)
    client = client_of(world.director)
    html = client.get("/analytics/dashboard/director/").content.decode()
    card = re.search(r'data-testid="card-revenue_ytd" data-value="([^"]+)"', html).group(1)
    page = client.get("/analytics/sales/").content.decode()
    total = re.search(r'data-testid="total-revenue" data-value="([^"]+)"', page).group(1)
    assert Decimal(card) == Decimal(total) > 0
    assert {"chart-trend", "chart-by_region", "chart-by_channel", "chart-by_rep", "chart-mix"} <= set(chart_specs(html))


def test_targets_show_on_the_rep_and_manager_dashboards(world, client_of):
    from django.utils import timezone

    from foodflow.analytics.targets import target_set

    month = timezone.localdate().replace(day=1)
    mine = place(world, [(world.milk, 10)], days_ago=0)
    target_set(by=world.manager, holder="rep", period="month", period_start=month, amount=mine.total * 4, rep=world.rep)
    html = client_of(world.rep).get("/analytics/dashboard/rep/").content.decode()
    value = re.search(r'data-testid="card-target" data-value="([^"]+)"', html).group(1)
    assert Decimal(value) == Decimal(25)
    assert chart_specs(html)["chart-target"]["value"] == 25.0
    html = client_of(world.manager).get("/analytics/dashboard/manager/").content.decode()
    table = html[html.index('data-testid="table-targets"') :]
    assert '<td class="text-end">25.00</td>' in table[: table.index("</table>")]
