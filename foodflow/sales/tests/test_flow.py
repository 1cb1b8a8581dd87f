"""The whole order to cash through the services, and its exceptions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.inventory.models import Reservation, StockBalance
from foodflow.sales import approvals
from foodflow.sales.fulfilment import delivery_create, delivery_receive, delivery_ship, order_close_short
from foodflow.sales.models import ApprovalStep, CustomerNotice, Invoice
from foodflow.sales.receivables import (
    credit_note_create,
    invoice_issue,
    payment_allocate,
    payment_record,
    return_create,
    writeoff_request,
)
from foodflow.sales.review import credit_release_request, order_review_check, order_review_decide
from foodflow.sales.selectors import ar_aging, customer_exposure, reconciliation
from foodflow.sales.services import (
    LineInput,
    order_amend,
    order_cancel,
    order_create,
    order_from_quotation,
    order_submit,
    order_update,
    quotation_accept,
    quotation_copy,
    quotation_create,
    quotation_revise,
    quotation_send,
    quotation_submit,
    quotation_update,
)

pytestmark = pytest.mark.django_db


def on_hand(product):
    return sum(b.on_hand for b in StockBalance.objects.filter(product=product))


def reserved(product):
    return sum(b.reserved for b in StockBalance.objects.filter(product=product))


def pending_step(quotation_or_order, doc_type):
    return ApprovalStep.objects.get(
        request__doc_type=doc_type, request__object_id=quotation_or_order.pk, state="pending"
    )


def test_quotation_prices_come_from_the_price_service_and_round_per_line(world):
    quotation = quotation_create(
        by=world.rep,
        customer=world.customer,
        lines=[LineInput(world.milk, "3"), LineInput(world.yoghurt, "7", discount="0.03")],
    )
    milk, yoghurt = quotation.lines.order_by("position")
    assert milk.list_price == Decimal("60.00") and "基础价" in milk.price_rule
    assert milk.amount == Decimal("180.00")
    assert yoghurt.amount == Decimal("247.84")  # 36.50 × 7 × 0.97 = 247.835 → half-up
    assert quotation.total == Decimal("427.84")
    assert quotation.payment_terms_days == 30  # the customer's standard
    assert quotation.number.startswith("QT-")


def test_whole_flow_quotation_to_paid(world):
    # rep: a quotation with a discount above the rep's 5 % ceiling needs the manager
    quotation = quotation_create(
        by=world.rep,
        customer=world.customer,
        lines=[LineInput(world.milk, "150", discount="0.08"), LineInput(world.yoghurt, "20")],
    )
    quotation = quotation_submit(by=world.rep, quotation=quotation)
    assert quotation.state == "pending_approval"
    step = pending_step(quotation, "quotation")
    assert step.role.code == "manager"
    assert [r["code"] for r in step.reasons] == ["discount_above_ceiling"]
    assert step in approvals.approval_queue(world.manager)
    assert step not in approvals.approval_queue(world.rep)
    approvals.approval_decide(step=step, by=world.manager, approve=True, comment="ok")
    quotation.refresh_from_db()
    assert quotation.state == "approved"
    quotation = quotation_send(by=world.rep, quotation=quotation)
    quotation = quotation_accept(by=world.rep, quotation=quotation)

    # the order repeats the approved quotation: no second price approval
    order = order_from_quotation(by=world.rep, quotation=quotation)
    order = order_submit(by=world.rep, order=order)
    assert order.state == "confirmed"
    world.customer.refresh_from_db()
    assert world.customer.first_order_at == order.ordered_on

    # planner: review, FEFO reservation with the oldest lot first
    findings = order_review_check(order=order)
    assert findings.stock_ok and findings.credit_ok
    order = order_review_decide(by=world.planner, order=order, decision="reserve")
    assert order.state == "reserved"
    lots = list(
        Reservation.objects.filter(reference=str(order), product=world.milk)
        .order_by("lot__expiry_date")
        .values_list("lot__lot_number", "quantity")
    )
    assert lots == [("M-OLD", Decimal("100.000")), ("M-NEW", Decimal("50.000"))]
    assert reserved(world.milk) == 150

    # planner: a partial delivery, then the rest
    milk_line = order.lines.get(product=world.milk)
    first = delivery_create(
        by=world.planner, order=order, planned_date=timezone.localdate(), quantities={milk_line.pk: "100"}
    )
    assert [dl.lot.lot_number for dl in first.lines.all()] == ["M-OLD"]
    assert CustomerNotice.objects.filter(order=order, kind="delivery_date").exists()
    delivery_ship(by=world.planner, delivery=first)
    order.refresh_from_db()
    assert order.state == "partially_delivered"
    assert on_hand(world.milk) == 300
    second = delivery_create(by=world.planner, order=order, planned_date=timezone.localdate())
    delivery_ship(by=world.planner, delivery=second)
    delivery_receive(by=world.planner, delivery=second, signed_by="张三")
    order.refresh_from_db()
    assert order.state == "delivered"
    assert reserved(world.milk) == 0 and on_hand(world.milk) == 250 and on_hand(world.yoghurt) == 180

    # finance: one receivable per delivery, adding up to the order exactly
    invoices = list(Invoice.objects.filter(order=order).order_by("pk"))
    assert len(invoices) == 2 and sum(i.amount for i in invoices) == order.total
    assert invoices[0].due_date == invoices[0].invoice_date + timedelta(days=30)
    invoice_issue(by=world.finance, invoice=invoices[0], vat_type="special", vat_number="12345678")
    payment = payment_record(
        by=world.finance, customer=world.customer, amount=order.total + Decimal("100"), auto_allocate=True
    )
    assert payment.unallocated == Decimal("100.00")  # overpayment kept as credit
    order.refresh_from_db()
    assert order.state == "completed"
    assert all(i.state == "paid" for i in Invoice.objects.filter(order=order))
    assert customer_exposure(world.customer) == Decimal("-100.00")

    # every step left its trace
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "quotation.submit",
        "approval.step_approved",
        "order.confirm",
        "order.reserve",
        "order.ship_all",
        "receivable.settle",
        "payment.allocated",
    } <= actions
    states = list(
        StageEvent.objects.filter(workflow="order", object_id=str(order.pk)).values_list("to_state", flat=True)
    )
    assert states == ["draft", "confirmed", "reserved", "partially_delivered", "delivered", "completed"]
    assert not reconciliation(orders=order.__class__.objects.filter(pk=order.pk))


def test_edit_after_approval_voids_it_and_sending_is_refused(world):
    quotation = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    quotation_submit(by=world.rep, quotation=quotation)
    approvals.approval_decide(step=pending_step(quotation, "quotation"), by=world.manager, approve=True)
    quotation.refresh_from_db()
    quotation = quotation_update(
        by=world.rep, quotation=quotation, lines=[LineInput(world.milk, "10", discount="0.15")]
    )
    assert quotation.state == "draft"
    assert approvals.approval_valid(doc_type="quotation", obj=quotation) is None
    with pytest.raises(DomainError) as error:
        quotation_send(by=world.rep, quotation=quotation)
    assert error.value.code == "transition_not_allowed"


def test_a_sent_quotation_is_revised_not_edited(world):
    quotation = quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    quotation = quotation_submit(by=world.rep, quotation=quotation)
    assert quotation.state == "approved"  # no policy applies
    quotation = quotation_send(by=world.rep, quotation=quotation)
    with pytest.raises(DomainError) as error:
        quotation_update(by=world.rep, quotation=quotation, notes="changed")
    assert error.value.code == "quotation_not_editable"
    revision = quotation_revise(by=world.rep, quotation=quotation)
    quotation.refresh_from_db()
    assert (revision.number, revision.version, revision.state) == (quotation.number, 2, "draft")
    assert quotation.state == "superseded" and not quotation.is_current
    assert quotation.lines.count() == 1  # the old version stays readable


def test_a_copy_of_an_approved_quotation_does_not_inherit_the_approval(world):
    quotation = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    quotation_submit(by=world.rep, quotation=quotation)
    approvals.approval_decide(step=pending_step(quotation, "quotation"), by=world.manager, approve=True)
    copy = quotation_copy(by=world.rep, quotation=quotation)
    assert copy.state == "draft" and copy.number != quotation.number
    assert approvals.approval_valid(doc_type="quotation", obj=copy) is None
    copy = quotation_submit(by=world.rep, quotation=copy)
    assert copy.state == "pending_approval"


def test_nobody_approves_their_own_document_or_above_their_limit(world, make_user):
    boss_rep = make_user("rep", "manager", username="rep_manager")
    world.customer.owner = boss_rep
    world.customer.save(update_fields=["owner"])
    quotation = quotation_create(
        by=boss_rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.12")]
    )
    quotation_submit(by=boss_rep, quotation=quotation)
    step = pending_step(quotation, "quotation")
    with pytest.raises(DomainError) as error:
        approvals.approval_decide(step=step, by=boss_rep, approve=True)
    assert error.value.code == "own_document"
    world.customer.owner = world.rep
    world.customer.save(update_fields=["owner"])
    # 4,000 boxes: 220,800 is above the manager's 200,000 limit: escalated to the director
    big = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "4000", discount="0.08")]
    )
    quotation_submit(by=world.rep, quotation=big)
    step = pending_step(big, "quotation")
    assert step.role.code == "director"
    with pytest.raises(DomainError) as error:
        approvals.approval_decide(step=step, by=world.manager, approve=True)
    assert error.value.code == "wrong_role"


def test_an_approver_above_their_limit_is_refused(world, make_user):
    from foodflow.accounts.models import Role
    from foodflow.sales.models import ApprovalPolicy

    ApprovalPolicy.objects.filter(doc_type="quotation").update(is_active=False)
    ApprovalPolicy.objects.create(
        name="all", doc_type="quotation", condition="always", approver_role=Role.objects.get(code="director"), level=1
    )
    quotation = quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "100")])
    quotation_submit(by=world.rep, quotation=quotation)
    # the director's authority was cut after the quotation was submitted
    Role.objects.filter(code="director").update(approval_amount_limit=Decimal("1000"))
    director = type(world.director).objects.get(pk=world.director.pk)
    with pytest.raises(DomainError) as error:
        approvals.approval_decide(step=pending_step(quotation, "quotation"), by=director, approve=True)
    assert error.value.code == "above_limit"


def test_a_document_changed_under_its_request_cannot_be_approved(world):
    quotation = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    quotation_submit(by=world.rep, quotation=quotation)
    step = pending_step(quotation, "quotation")
    # a raw change behind the services' back (as a direct database edit would be)
    quotation.lines.update(discount=Decimal("0.5"))
    with pytest.raises(ConflictError) as error:
        approvals.approval_decide(step=step, by=world.manager, approve=True)
    assert error.value.code == "document_changed"


def test_confirmed_orders_are_amended_not_edited(world):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    assert order.state == "confirmed"
    with pytest.raises(DomainError) as error:
        order_update(by=world.rep, order=order, notes="x")
    assert error.value.code == "order_confirmed"
    order = order_review_decide(by=world.planner, order=order, decision="reserve")
    amendment = order_amend(by=world.rep, order=order, lines=[LineInput(world.milk, "20")])
    assert (amendment.version, amendment.state, amendment.is_current) == (2, "draft", False)
    amendment = order_submit(by=world.rep, order=amendment)
    order.refresh_from_db()
    assert amendment.state == "confirmed" and order.state == "superseded"
    assert reserved(world.milk) == 0  # the old version's reservations went back


def test_stale_edit_is_a_conflict(world):
    order = order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    order_update(by=world.rep, order=order, expected_version=1, notes="first")
    with pytest.raises(ConflictError):
        order_update(by=world.rep, order=order, expected_version=1, notes="second")


def test_cancel_releases_reservations(world):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "30")])
    )
    order_review_decide(by=world.planner, order=order, decision="reserve")
    assert reserved(world.milk) == 30
    order = order_cancel(by=world.rep, order=order, reason="客户取消")
    assert order.state == "cancelled" and reserved(world.milk) == 0


def test_short_stock_goes_to_production_with_a_promised_date(world, make_product):
    from foodflow.inventory.models import LineCapacity, ProductionLine

    line = ProductionLine.objects.create(code="L1", name="UHT 1", works_weekends=True)
    LineCapacity.objects.create(line=line, family=world.milk.family, daily_quantity=Decimal("200"))
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "500")])
    )
    findings = order_review_check(order=order)
    assert findings.lines[0].short == Decimal("100")
    with pytest.raises(DomainError) as error:
        order_review_decide(by=world.planner, order=order, decision="reserve")
    assert error.value.code == "stock_short"
    order = order_review_decide(by=world.planner, order=order, decision="production")
    assert order.state == "production" and order.promised_date is not None
    assert reserved(world.milk) == 400
    assert CustomerNotice.objects.filter(order=order, kind="promised_date").exists()


def test_an_order_over_the_credit_limit_needs_the_director_and_then_passes_review(world):
    from foodflow.crm.services import customer_set_credit

    customer_set_credit(by=None, customer=world.customer, credit_limit=Decimal("100"), payment_terms_days=30)
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    assert order.state == "pending_approval"
    step = pending_step(order, "order")
    assert step.role.code == "director" and [r["code"] for r in step.reasons] == ["credit_over"]
    approvals.approval_decide(step=step, by=world.director, approve=True)
    order.refresh_from_db()
    assert order.state == "confirmed" and order.credit_override  # the approval was the credit decision
    assert order_review_decide(by=world.planner, order=order, decision="reserve").state == "reserved"


def test_credit_block_is_lifted_only_by_finance_through_approval(world):
    from foodflow.crm.services import customer_set_credit

    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    assert order.state == "confirmed"
    # finance cut the limit after the order was confirmed: review finds the exposure too high
    customer_set_credit(by=None, customer=world.customer, credit_limit=Decimal("100"), payment_terms_days=30)
    with pytest.raises(DomainError) as error:
        order_review_decide(by=world.planner, order=order, decision="reserve")
    assert error.value.code == "credit_blocked"
    order = order_review_decide(by=world.planner, order=order, decision="credit_hold", note="超额")
    with pytest.raises(PermissionDeniedError):
        credit_release_request(by=world.rep, order=order, reason="please")
    credit_release_request(by=world.finance, order=order, reason="客户已承诺月底付款")
    order.refresh_from_db()
    assert order.state == "credit_hold"  # nothing changes before the approval
    step = pending_step(order, "credit_release")
    approvals.approval_decide(step=step, by=world.director, approve=True)
    order.refresh_from_db()
    assert order.state == "confirmed" and order.credit_override
    assert order_review_decide(by=world.planner, order=order, decision="reserve").state == "reserved"


def test_a_step_nobody_may_decide_goes_to_a_higher_role(world, make_user):
    lone_rep = make_user("rep", unit="SOUTH-1", username="lone_rep")  # SOUTH-1 has no manager
    world.customer.owner = lone_rep
    world.customer.save(update_fields=["owner"])
    from foodflow.accounts.models import OrgUnit

    world.customer.region = OrgUnit.objects.get(code="SOUTH")
    world.customer.save(update_fields=["region"])
    quotation = quotation_create(
        by=lone_rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    quotation_submit(by=lone_rep, quotation=quotation)
    step = pending_step(quotation, "quotation")
    assert step.role.code == "director"
    assert "escalated" in [r["code"] for r in step.reasons]


def _delivered_order(world, quantity="10"):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, quantity)])
    )
    order_review_decide(by=world.planner, order=order, decision="reserve")
    delivery = delivery_create(by=world.planner, order=order, planned_date=timezone.localdate())
    delivery_ship(by=world.planner, delivery=delivery)
    order.refresh_from_db()
    return order, delivery


def test_allocation_never_exceeds_what_is_open(world):
    order, _delivery = _delivered_order(world)
    invoice = Invoice.objects.get(order=order)
    payment = payment_record(by=world.finance, customer=world.customer, amount="1000")
    with pytest.raises(DomainError) as error:
        payment_allocate(by=world.finance, payment=payment, allocations=[(invoice, "700")])
    assert error.value.code == "over_invoice_amount"
    payment_allocate(by=world.finance, payment=payment, allocations=[(invoice, "250")])
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("250.00") and invoice.state == "open"
    _rows, total = ar_aging(invoices=Invoice.objects.all())
    assert total.buckets["0-30"] == Decimal("350.00")


def test_return_restocks_the_lot_and_credits_the_receivable(world):
    order, delivery = _delivered_order(world)
    before = on_hand(world.milk)
    line = delivery.lines.get()
    customer_return = return_create(
        by=world.finance, delivery=delivery, lines=[(line, "2", "restock")], reason="包装破损"
    )
    assert on_hand(world.milk) == before + 2
    invoice = Invoice.objects.get(order=order)
    assert invoice.credited_amount == customer_return.total == Decimal("120.00")
    rows = reconciliation(orders=order.__class__.objects.filter(pk=order.pk))
    assert rows and any("credit" in reason.lower() or "退" in reason for reason in rows[0].reasons)


def test_write_off_needs_approval(world):
    order, _delivery = _delivered_order(world)
    invoice = Invoice.objects.get(order=order)
    writeoff = writeoff_request(by=world.finance, invoice=invoice, amount="600", reason="客户破产")
    invoice.refresh_from_db()
    assert invoice.written_off_amount == 0
    approvals.approval_decide(step=pending_step(writeoff, "write_off"), by=world.director, approve=True)
    invoice.refresh_from_db()
    assert invoice.state == "written_off"


def test_short_shipment_closes_the_order_and_shows_in_reconciliation(world):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    order_review_decide(by=world.planner, order=order, decision="reserve")
    line = order.lines.get()
    delivery = delivery_create(
        by=world.planner, order=order, planned_date=timezone.localdate(), quantities={line.pk: "6"}
    )
    delivery_ship(by=world.planner, delivery=delivery)
    order = order_close_short(by=world.planner, order=order, reason="缺货")
    assert order.state == "delivered" and reserved(world.milk) == 0
    rows = reconciliation(orders=order.__class__.objects.filter(pk=order.pk))
    assert rows[0].delivered == Decimal("360.00")


def test_credit_note_beyond_the_open_amount_is_kept_as_credit(world):
    order, _delivery = _delivered_order(world)
    invoice = Invoice.objects.get(order=order)
    note = credit_note_create(by=world.finance, order=order, invoice=invoice, amount="700", reason="价格补偿")
    assert (note.applied_amount, note.unapplied) == (Decimal("600.00"), Decimal("100.00"))
