"""A rep develops a lead into a customer, logs a visit, finds the revisit due; another
team's rep cannot open the customer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from foodflow.crm.models import Activity, Customer, Lead

pytestmark = [pytest.mark.browser]
TODAY = timezone.localdate()


@pytest.fixture
def reps(transactional_db, make_user):
    return {
        "rep": make_user("rep", username="zhangwei"),
        "stranger": make_user("rep", unit="EAST-2", username="zhoumin"),
    }


def log_in(page, server, username):
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")


def test_lead_to_customer_to_revisit(reps, org, browser, live_server):
    server = live_server.url
    page = browser.new_page()
    log_in(page, server, "zhangwei")

    page.goto(f"{server}/crm/leads/new/")
    page.fill("input[name=company]", "苏州姑苏食品贸易有限公司")
    page.fill("input[name=contact_name]", "陆经理")
    page.fill("input[name=phone]", "13912345678")
    page.select_option("select[name=source]", "trade_show")
    page.select_option("select[name=channel]", "distributor")
    page.select_option("select[name=region]", str(org["EAST"].pk))
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=lead-stage]")
    lead = Lead.objects.get(company="苏州姑苏食品贸易有限公司")
    assert page.url == f"{server}/crm/leads/{lead.pk}/"

    page.click("[data-testid=lead-qualify]")
    page.wait_for_load_state("networkidle")
    page.click("[data-testid=lead-convert]")
    page.locator(".modal.show [data-testid=confirm-convert]").click()
    page.wait_for_url(f"{server}/crm/customers/*/")
    customer = Customer.objects.get(name="苏州姑苏食品贸易有限公司")
    assert customer.owner == reps["rep"] and Lead.objects.get(pk=lead.pk).stage == "converted"

    # a visit logged a week ago, with the revisit two days ago: due now
    form = page.locator("[data-testid=activity-form]")
    form.locator("select[name=kind]").select_option("visit")
    form.locator("input[name=happened_on]").fill((TODAY - timedelta(days=7)).isoformat())
    form.locator("input[name=subject]").fill("门店拜访，品尝新品")
    form.locator("input[name=next_revisit]").fill((TODAY - timedelta(days=2)).isoformat())
    form.locator("[data-testid=log-activity]").click()
    page.wait_for_load_state("networkidle")
    assert Activity.objects.get(customer=customer).next_revisit == TODAY - timedelta(days=2)

    page.goto(f"{server}/crm/revisits/")
    rows = page.locator("[data-testid=revisit-row]")
    assert rows.count() == 1 and "门店拜访" in rows.first.inner_text()

    stranger = browser.new_page()
    log_in(stranger, server, "zhoumin")
    response = stranger.goto(f"{server}/crm/customers/{customer.pk}/")
    assert response.status == 403
    stranger.goto(f"{server}/crm/revisits/")
    assert stranger.locator("[data-testid=revisit-row]").count() == 0
