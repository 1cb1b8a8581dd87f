"""Acceptance: a complaint about a lot to its closed recall through the real web UI in Chromium,
each person in their own browser, every step a click or a form as a user does it (the UI in
its default language, Simplified Chinese: the test reads data-testids and codes, not texts).

service agent: logs a quality complaint about lot M-OLD, which went to two customers; QA:
holds the lot from the complaint page, then recalls it; the recall page lists exactly the
customers and deliveries that received the lot (checked against the delivery lines); QA
records every return and closes the recall. Afterwards the lot is recalled and a new order's
reservation never takes it."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PASSWORD
from foodflow.inventory.allocation import allocation_plan
from foodflow.inventory.models import Reservation
from foodflow.sales.models import DeliveryLine
from foodflow.sales.services import LineInput
from foodflow.service.models import Complaint, Recall
from foodflow.testing import browser as browser_steps
from foodflow.testing.browser import confirm_in_modal, migration_defaults_restore, submit

pytestmark = [pytest.mark.browser]


@pytest.fixture
def migration_defaults(transactional_db):
    migration_defaults_restore()


def logged_in(browser, server: str, user):
    return browser_steps.logged_in(browser, server, user.username, PASSWORD)


def shipped_with(lot) -> dict[tuple[int, int], Decimal]:
    """(customer, delivery) → quantity of the lot, for every delivery that left, read from the
    delivery lines themselves."""
    shipped = defaultdict(Decimal)
    for line in DeliveryLine.objects.filter(lot=lot).select_related("delivery"):
        if line.delivery.shipped_at is not None and line.delivery.state in ("shipped", "received"):
            shipped[(line.delivery.customer_id, line.delivery_id)] += line.quantity
    return dict(shipped)


def test_a_complaint_about_a_lot_to_its_closed_recall_through_the_web_ui(
    transactional_db, migration_defaults, sworld, m_old_shipped, browser, live_server
):
    from playwright.sync_api import expect

    server = live_server.url
    lot = sworld.lot("M-OLD")
    expected = shipped_with(lot)
    assert {customer for customer, _delivery in expected} == {m_old_shipped.customer.pk, m_old_shipped.south.pk}

    # --- 1. service agent: logs the complaint from the ledger --------------------------------------
    agent = logged_in(browser, server, sworld.service)
    agent.goto(f"{server}{reverse('service:complaints')}")
    expect(agent.locator("[data-testid=empty-state]")).to_have_count(1)
    submit(agent, agent.locator("[data-testid=log-complaint]"))
    agent.select_option("select[name=channel]", "phone")
    agent.select_option("select[name=category]", "quality")
    agent.select_option("select[name=severity]", "high")
    agent.select_option("select[name=customer]", str(sworld.customer.pk))
    agent.fill("input[name=contact_name]", "李经理")
    agent.fill("input[name=contact_phone]", "021-55556666")
    agent.fill("input[name=lot]", "M-OLD")
    agent.fill("textarea[name=description]", "牛奶胀包，开盒有异味")
    agent.select_option("select[name=owner]", str(sworld.service.pk))
    submit(agent, agent.locator("[data-testid=save-complaint]"))
    complaint = Complaint.objects.get()
    complaint_url = f"{server}{reverse('service:complaint_detail', args=[complaint.pk])}"
    assert agent.url == complaint_url
    assert (complaint.lot, complaint.customer, complaint.owner) == (lot, sworld.customer, sworld.service)
    expect(agent.locator("[data-testid=complaint-state]")).to_have_attribute("data-state", "assigned")
    expect(agent.locator("[data-testid=action-recall]")).to_have_count(0)  # not the desk's to do

    # --- 2. QA: holds the lot from the complaint page ------------------------------------------------
    qa = logged_in(browser, server, sworld.qa)
    qa.goto(complaint_url)
    confirm_in_modal(qa, qa.locator("[data-testid=action-hold]"), "confirm-hold", reason="投诉胀包，暂停发货待查")
    expect(qa.locator("[data-testid=lot-status]")).to_have_attribute("data-status", "on_hold")
    lot.refresh_from_db()
    assert lot.status == "on_hold"

    # --- 3. QA: starts the recall and lands on its trace ---------------------------------------------
    confirm_in_modal(qa, qa.locator("[data-testid=action-recall]"), "confirm-recall", reason="胀包确认，疑似微生物超标")
    recall = Recall.objects.get()
    recall_url = f"{server}{reverse('service:recall_detail', args=[recall.pk])}"
    assert qa.url == recall_url
    assert (recall.complaint, recall.is_drill) == (complaint, False)
    expect(qa.locator("[data-testid=recall-lot] [data-testid=lot-status]")).to_have_attribute("data-status", "recalled")

    # --- 4. the recall page lists exactly who received the lot ---------------------------------------
    rows = qa.locator("[data-testid=recall-line]")
    expect(rows).to_have_count(len(expected))
    listed = {
        (int(row.get_attribute("data-customer")), int(row.get_attribute("data-delivery"))): Decimal(
            row.get_attribute("data-shipped")
        )
        for row in rows.all()
    }
    assert listed == expected
    for row in rows.all():
        delivery_id = int(row.get_attribute("data-delivery"))
        number = DeliveryLine.objects.filter(delivery_id=delivery_id).first().delivery.number
        expect(row.locator("[data-testid=line-delivery]")).to_have_text(number)
    expect(qa.locator("[data-testid=origin-row]")).to_have_count(1)
    expect(qa.locator("[data-testid=trace-ms]")).to_be_visible()

    # --- 5. QA: records what came back from every delivery -------------------------------------------
    for (_customer, delivery_id), quantity in expected.items():
        row = qa.locator(f"[data-testid=recall-line][data-delivery='{delivery_id}']")
        row.locator("input[name=quantity]").fill(f"{quantity.normalize():f}")
        submit(qa, row.locator("[data-testid=record-return]"))
        expect(row.locator("[data-testid=line-complete]")).to_have_count(1)
    expect(qa.locator("[data-testid=total-outstanding]")).to_have_text("0")

    # --- 6. QA: closes the recall ----------------------------------------------------------------------
    confirm_in_modal(qa, qa.locator("[data-testid=action-close]"), "confirm-close")
    expect(qa.locator("[data-testid=recall-state]")).to_have_attribute("data-state", "closed")

    # --- 7. the database: the lot is recalled and no new order takes it --------------------------------
    recall.refresh_from_db()
    lot.refresh_from_db()
    assert recall.state == "closed" and recall.closed_at is not None
    assert all(line.outstanding == 0 for line in recall.lines.all())
    assert lot.status == "recalled"
    assert {line.lot_number for line in allocation_plan(product=sworld.milk, quantity="100").lines} == {"M-NEW"}
    order = sworld.reserved_order(customer=sworld.customer, by=sworld.rep, lines=[LineInput(sworld.milk, "50")])
    taken = set(
        Reservation.objects.filter(reference=str(order), product=sworld.milk).values_list("lot__lot_number", flat=True)
    )
    assert taken == {"M-NEW"}
