"""A planner finds a near-expiry lot and puts it on hold; FEFO no longer allocates it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from foodflow.inventory.allocation import allocation_plan
from foodflow.inventory.models import Lot

pytestmark = [pytest.mark.browser]
TODAY = timezone.localdate()


@pytest.fixture
def stock(transactional_db, make_user, make_product, receive):
    planner = make_user("planner", username="planner_zheng")
    milk = make_product(sku="UHT250", name="鲜禾纯牛奶 250ml")
    soon = receive(milk, "20260601-A1-01", produced_days_ago=175, expiry_date=TODAY + timedelta(days=4))
    later = receive(milk, "20261101-A1-02", produced_days_ago=20, expiry_date=TODAY + timedelta(days=160))
    return {"planner": planner, "milk": milk, "soon": soon, "later": later}


def test_a_planner_puts_a_near_expiry_lot_on_hold(stock, browser, live_server):
    milk, soon = stock["milk"], stock["soon"]
    assert allocation_plan(product=milk, quantity=10).lines[0].lot_id == soon.pk  # FEFO takes it first

    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "planner_zheng")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/stock/near-expiry/")
    rows = page.locator("[data-testid=near-expiry-row]")
    assert rows.count() == 1 and rows.first.get_attribute("data-lot") == soon.lot_number
    page.click("[data-testid=near-expiry-lot]")
    page.wait_for_url(f"{live_server.url}/stock/lots/{soon.pk}/")
    assert page.get_attribute("[data-testid=lot-status]", "data-status") == "available"

    page.click("[data-testid=hold-lot]")
    dialog = page.locator(".modal.show")
    dialog.wait_for()
    dialog.locator("textarea[name=reason]").fill("客户投诉：胀包，待质检复核")
    dialog.locator("[data-testid=confirm-hold]").click()
    page.wait_for_load_state("networkidle")

    assert page.get_attribute("[data-testid=lot-status]", "data-status") == "on_hold"
    assert "胀包" in page.inner_text("[data-testid=hold-reason]")
    soon.refresh_from_db()
    assert (soon.status, soon.hold_reason) == ("on_hold", "客户投诉：胀包，待质检复核")
    plan = allocation_plan(product=milk, quantity=10)
    assert [line.lot_id for line in plan.lines] == [stock["later"].pk]
    assert Lot.objects.get(pk=stock["later"].pk).status == "available"
