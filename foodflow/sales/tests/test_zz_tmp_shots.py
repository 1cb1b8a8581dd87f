# TEMPORARY: screenshots for a visual check; deleted after use.
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.models import Invoice
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import LineInput, order_create, order_submit

TODAY = timezone.localdate()


def log_in(page, server, username):
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")


@pytest.mark.django_db(transaction=True)
def test_shots(world, browser, live_server):
    w = world
    o1 = order_submit(by=w.rep, order=order_create(by=w.rep, customer=w.customer, lines=[LineInput(w.milk, "150"), LineInput(w.yoghurt, "300")]))
    o2 = order_submit(by=w.rep, order=order_create(by=w.rep, customer=w.customer, lines=[LineInput(w.milk, "10")]))
    o2 = order_review_decide(by=w.planner, order=o2, decision="reserve")
    d = delivery_create(by=w.planner, order=o2, planned_date=TODAY, quantities={o2.lines.get().pk: "6"}, carrier="顺丰")
    delivery_ship(by=w.planner, delivery=d)
    delivery_create(by=w.planner, order=o2, planned_date=TODAY + timedelta(days=1))
    inv = Invoice.objects.get(delivery=d)
    server = live_server.url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, server, "planner")
    for name, url in [("queue", "/sales/review/"), ("review", f"/sales/review/{o1.pk}/"), ("board", "/sales/deliveries/"),
                      ("create", f"/sales/deliveries/new/{o2.pk}/"), ("delivery", f"/sales/deliveries/{d.pk}/")]:
        page.goto(server + url)
        page.screenshot(path=f"/tmp/shots/{name}.png", full_page=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, server, "finance")
    for name, url in [("receivables", "/sales/receivables/"), ("aging", "/sales/receivables/aging/"),
                      ("invoice", f"/sales/receivables/{inv.pk}/"), ("paycreate", f"/sales/payments/new/?customer={w.customer.pk}"),
                      ("recon", "/sales/reconciliation/"), ("return", f"/sales/deliveries/{d.pk}/return/")]:
        page.goto(server + url)
        page.screenshot(path=f"/tmp/shots/{name}.png", full_page=True)
    page.goto(server + f"/sales/payments/new/?customer={w.customer.pk}")
    page.fill("input[name=amount]", "50")
    page.fill(f"input[name=alloc_{inv.pk}]", "80")
    page.click("[data-testid=save-payment]")
    page.screenshot(path="/tmp/shots/payerror.png", full_page=True)
