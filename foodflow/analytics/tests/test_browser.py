"""Acceptance: each role's dashboard in Chromium, its charts drawn by ECharts from the page's
data blocks (no chart is left empty), and the analysis page's drill-down clicked through to the
documents behind a figure."""

import pytest

from conftest import PASSWORD
from foodflow.analytics.tests.test_rollup import place
from foodflow.sales.services import LineInput
from foodflow.testing import browser as browser_steps

pytestmark = [pytest.mark.browser]

DASHBOARDS = ("rep", "manager", "director", "finance", "service")


@pytest.fixture
def people(transactional_db, sworld):
    world = sworld.sales
    place(world, [(world.milk, 10), (world.yoghurt, 3)], days_ago=0)
    place(world, [(world.milk, 4)], days_ago=35)
    place(world, [(world.yoghurt, 6)], days_ago=370, by=world.manager)
    # a delivery and a complaint about it: the service desk's figures
    delivered = sworld.deliver(
        sworld.reserved_order(customer=world.customer, by=world.rep, lines=[LineInput(world.milk, "8")])
    )
    sworld.complaint(delivery=delivered, order=delivered.order)
    return {
        "rep": world.rep,
        "manager": world.manager,
        "director": world.director,
        "finance": world.finance,
        "service": sworld.service,
    }


def charts_drawn(page) -> int:
    """Wait until every chart of the page is drawn; the number of charts."""
    charts = page.locator("[data-chart]")
    total = charts.count()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-chart][data-rendered=true] svg').length === n", arg=total
    )
    return total


@pytest.mark.parametrize("role", DASHBOARDS)
def test_each_role_dashboard_draws_its_charts(people, browser, live_server, role):
    page = browser_steps.logged_in(browser, live_server.url, people[role].username, PASSWORD)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/analytics/dashboard/")
    page.wait_for_url(f"**/analytics/dashboard/{role}/")
    assert page.locator(f"[data-testid=dashboard-{role}]").count() == 1
    assert charts_drawn(page) >= 1
    # a bar or a line or a sector was drawn, not only the axes
    assert page.locator("[data-chart] svg path").count() > 10
    assert errors == []


def test_a_figure_drills_down_to_its_documents(people, browser, live_server):
    page = browser_steps.logged_in(browser, live_server.url, people["director"].username, PASSWORD)
    page.goto(f"{live_server.url}/analytics/sales/?by=region")
    assert charts_drawn(page) == 1
    revenue = page.locator("[data-testid=sales-row]").first.get_attribute("data-revenue")
    page.locator("[data-testid=drill-link]").first.click()
    page.wait_for_url("**/analytics/sales/documents/**")
    assert page.locator("[data-testid=documents-total]").get_attribute("data-value") == revenue
    assert page.locator("[data-testid=document-row]").count() >= 1
