"""Acceptance: order to cash through the real web UI in Chromium, each person in their own
browser, every step a click or a form as a user does it (the UI in its default language,
Simplified Chinese: the test reads data-testids and state codes, not texts).

rep: quotation with a discount above the rep's ceiling → submitted; manager: approves it from
the queue; rep: sent, accepted, order made and confirmed; planner: reviews (FEFO lots) and
reserves, plans, ships and confirms the delivery; finance: records the VAT invoice and a
payment allocated to the receivable. Then the database: stock moved, receivable paid, order
completed, every step in the audit log."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Sum
from django.urls import reverse

from conftest import PASSWORD
from foodflow.core.models import AuditEntry
from foodflow.inventory.models import StockBalance
from foodflow.sales.models import ApprovalRequest, Delivery, Invoice, Payment, Quotation, SalesOrder
from foodflow.testing.browser import confirm_in_modal, submit
from foodflow.testing.browser import logged_in as browser_logged_in

pytestmark = [pytest.mark.browser]


@pytest.fixture
def approval_policies(transactional_db):
    """The default approval policies come from a migration; a transactional test's flush
    removes them, so they are laid again (the migration's own function, a no-op when present)."""
    defaults = importlib.import_module("foodflow.sales.migrations.0002_defaults").defaults
    defaults(apps, None)


def on_hand(product) -> Decimal:
    return StockBalance.objects.filter(product=product).aggregate(t=Sum("on_hand"))["t"] or Decimal(0)


def reserved(product) -> Decimal:
    return StockBalance.objects.filter(product=product).aggregate(t=Sum("reserved"))["t"] or Decimal(0)


def logged_in(browser, server: str, user):
    """A browser context of its own for one person, logged in through the login page."""
    return browser_logged_in(browser, server, user.username, PASSWORD)


def state_of(page, testid: str) -> str:
    return page.get_attribute(f"[data-testid={testid}]", "data-state")


def amount_of(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def test_order_to_cash_through_the_web_ui(transactional_db, world, approval_policies, browser, live_server):
    from playwright.sync_api import expect

    server = live_server.url
    milk_before, yoghurt_before = on_hand(world.milk), on_hand(world.yoghurt)

    # --- 1. rep: a quotation with 8 % off the milk (the rep may give 5 %), submitted --------------
    rep = logged_in(browser, server, world.rep)
    rep.goto(f"{server}{reverse('sales:quotations')}")
    rep.click("[data-testid=new-quotation]")
    rep.wait_for_selector("[data-testid=document-form]")
    rep.select_option("select[name=customer]", str(world.customer.pk))
    rep.select_option("select[name=lines-0-product]", str(world.milk.pk))
    rep.fill("input[name=lines-0-quantity]", "150")
    rep.fill("input[name=lines-0-discount_percent]", "8")
    rep.click("[data-testid=add-line]")
    expect(rep.locator("[data-testid=line-row]")).to_have_count(2)
    rep.select_option("select[name=lines-1-product]", str(world.yoghurt.pk))
    rep.fill("input[name=lines-1-quantity]", "20")
    submit(rep, rep.locator("[data-testid=save-document]"))
    assert state_of(rep, "quotation-state") == "draft"
    quotation = Quotation.objects.get(customer=world.customer)
    assert rep.url == f"{server}{reverse('sales:quotation_detail', args=[quotation.pk])}"
    assert quotation.total == Decimal("9010.00")  # 150 × 60.00 × 0.92 + 20 × 36.50

    submit(rep, rep.locator("[data-testid=action-submit]"))
    assert state_of(rep, "quotation-state") == "pending_approval"
    expect(rep.locator("[data-testid=approval-request]")).to_have_attribute("data-state", "pending")

    # --- 2. manager: the quotation in the queue, with its reason; approved ------------------------
    manager = logged_in(browser, server, world.manager)
    manager.goto(f"{server}{reverse('sales:approvals')}")
    row = manager.locator("[data-testid=queue-row]", has_text=quotation.number)
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid=queue-reason]")).to_have_attribute("data-code", "discount_above_ceiling")
    confirm_in_modal(manager, row.locator("[data-testid=approve]"), "confirm-approve")
    expect(manager.locator("[data-testid=queue-row]")).to_have_count(0)
    expect(manager.locator("[data-testid=decided-row]")).to_have_attribute("data-state", "approved")

    # --- 3. rep: sent, accepted by the customer, the order made from it and confirmed -------------
    rep.reload()
    assert state_of(rep, "quotation-state") == "approved"
    submit(rep, rep.locator("[data-testid=action-send]"))
    assert state_of(rep, "quotation-state") == "sent"
    submit(rep, rep.locator("[data-testid=action-accept]"))
    assert state_of(rep, "quotation-state") == "accepted"
    rep.click("[data-testid=action-order]")
    rep.locator(".modal.show input[name=customer_reference]").fill("PO-JLH-0815")
    submit(rep, rep.locator(".modal.show [data-testid=confirm-order]"))
    assert state_of(rep, "order-state") == "draft"
    order = SalesOrder.objects.get(quotation=quotation)
    assert rep.url == f"{server}{reverse('sales:order_detail', args=[order.pk])}"
    submit(rep, rep.locator("[data-testid=action-submit]"))
    # the order repeats the approved quotation: no second approval, confirmed at once
    assert state_of(rep, "order-state") == "confirmed"

    # --- 4. planner: the order review shows the FEFO lots; reserve --------------------------------
    planner = logged_in(browser, server, world.planner)
    planner.goto(f"{server}{reverse('sales:review_queue')}")
    review_row = planner.locator(f"[data-testid=review-row][data-number='{order.number}']")
    with planner.expect_navigation():
        review_row.get_by_role("link", name=str(order), exact=True).click()
    assert planner.url == f"{server}{reverse('sales:order_review', args=[order.pk])}"
    milk_line = planner.locator(f"[data-testid=review-line][data-sku='{world.milk.sku}']")
    expect(milk_line.locator("[data-testid=short]")).to_have_text("0")
    lots = milk_line.locator("[data-testid=fefo-lot]")
    assert [lot.get_attribute("data-lot") for lot in lots.all()] == ["M-OLD", "M-NEW"]  # oldest expiry first
    expect(lots.nth(0)).to_contain_text("100")
    expect(lots.nth(1)).to_contain_text("50")
    expect(planner.locator("[data-testid=credit-ok]")).to_have_count(1)
    planner.check("input[name=decision][value=reserve]")
    submit(planner, planner.locator("[data-testid=sign-off]"))
    assert state_of(planner, "order-state") == "reserved"
    assert reserved(world.milk) == Decimal("150")

    # --- 5. planner: delivery note for all that is reserved, shipped, received --------------------
    planner.goto(f"{server}{reverse('sales:deliveries')}")
    ready = planner.locator(f"[data-testid=ready-row][data-number='{order.number}']")
    with planner.expect_navigation():
        ready.locator("[data-testid=new-delivery]").click()
    quantities = planner.locator("[data-testid=delivery-lines] input[name^=qty_]")
    # proposed: everything reserved and not yet on a note
    assert sorted(Decimal(field.input_value()) for field in quantities.all()) == [Decimal("20"), Decimal("150")]
    planner.fill("input[name=carrier]", "顺丰冷链")
    submit(planner, planner.locator("[data-testid=create-delivery]"))
    assert state_of(planner, "delivery-state") == "planned"
    delivery = Delivery.objects.get(order=order)
    assert planner.url == f"{server}{reverse('sales:delivery_detail', args=[delivery.pk])}"
    lot_numbers = planner.locator("[data-testid=lot-number]").all_inner_texts()
    assert sorted(lot_numbers) == ["M-NEW", "M-OLD", "Y-1"]

    confirm_in_modal(planner, planner.locator("[data-testid=ship]"), "confirm-ship")
    assert state_of(planner, "delivery-state") == "shipped"
    planner.click("[data-testid=receive]")
    planner.locator(".modal.show input[name=signed_by]").fill("王店长")
    submit(planner, planner.locator(".modal.show [data-testid=confirm-receive]"))
    assert state_of(planner, "delivery-state") == "received"
    expect(planner.locator("[data-testid=signed-by]")).to_have_text("王店长")

    # --- 6. finance: the receivable's VAT invoice, then the payment allocated to it ---------------
    invoice = Invoice.objects.get(order=order)
    finance = logged_in(browser, server, world.finance)
    finance.goto(f"{server}{reverse('sales:receivables')}")
    with finance.expect_navigation():
        finance.locator(
            f"[data-testid=receivable-row][data-number='{invoice.number}'] a", has_text=invoice.number
        ).click()
    assert state_of(finance, "invoice-state") == "open"
    amount = amount_of(finance.inner_text("[data-testid=amount]"))
    assert amount == Decimal("9010.00")

    vat = finance.locator("[data-testid=vat-invoice]")
    vat.locator("select[name=vat_type]").select_option("special")
    vat.locator("input[name=vat_number]").fill("31002600012345")
    submit(finance, vat.locator("[data-testid=record-vat-invoice]"))
    assert state_of(finance, "invoice-state") == "issued"
    expect(finance.locator("[data-testid=vat-number]")).to_have_text("31002600012345")

    with finance.expect_navigation():
        finance.click("[data-testid=pay-invoice]")
    assert finance.input_value("select[name=customer]") == str(world.customer.pk)
    finance.fill("input[name=amount]", str(amount))
    finance.select_option("select[name=method]", "transfer")
    finance.fill("input[name=reference]", "ICBC-20260815-001")
    allocation = finance.locator(f"[data-testid=allocation-input-row][data-number='{invoice.number}']")
    allocation.locator(f"input[name=alloc_{invoice.pk}]").fill(str(amount))
    submit(finance, finance.locator("[data-testid=save-payment]"))
    payment = Payment.objects.get(customer=world.customer)
    assert finance.url == f"{server}{reverse('sales:payment_detail', args=[payment.pk])}"
    assert amount_of(finance.inner_text("[data-testid=unallocated]")) == 0
    with finance.expect_navigation():
        finance.locator("[data-testid=payment-allocations] a", has_text=invoice.number).click()
    assert state_of(finance, "invoice-state") == "paid"
    assert amount_of(finance.inner_text("[data-testid=open]")) == 0

    # --- the database: stock moved, nothing left reserved, paid, completed, all of it audited -----
    assert on_hand(world.milk) == milk_before - 150
    assert on_hand(world.yoghurt) == yoghurt_before - 20
    assert reserved(world.milk) == 0 and reserved(world.yoghurt) == 0
    invoice.refresh_from_db()
    assert invoice.state == "paid" and invoice.paid_amount == invoice.amount == Decimal("9010.00")
    assert invoice.vat_type == "special" and invoice.vat_number == "31002600012345"
    order.refresh_from_db()
    assert order.state == "completed"
    delivery.refresh_from_db()
    assert delivery.state == "received" and delivery.signed_by == "王店长"

    def audited(action: str, obj, actor) -> bool:
        return AuditEntry.objects.filter(action=action, object_id=str(obj.pk), actor=actor).exists()

    approval_request = ApprovalRequest.objects.get(doc_type="quotation", object_id=quotation.pk)
    assert audited("quotation.submit", quotation, world.rep)
    assert audited("approval.step_approved", approval_request, world.manager)
    assert audited("quotation.approve", quotation, None)
    assert audited("order.confirm", order, world.rep)
    assert audited("order.reserve", order, world.planner)
    assert audited("delivery.ship", delivery, world.planner)
    assert audited("delivery.receive", delivery, world.planner)
    assert audited("receivable.issue", invoice, world.finance)
    assert audited("payment.allocated", invoice, world.finance)
    assert audited("order.complete", order, None)
