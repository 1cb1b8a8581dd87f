"""What a complaint gives the customer, through the services on the real database: a no-charge
replacement reserved by FEFO (never from a held lot, all or nothing), its shipment settling a
zero receivable; a refund or compensation approved by amount in the sales approval engine and
issued by finance as a credit note against the open receivable; a return of the goods to their
lot, restocked or scrapped. Every refusal is checked for its code and for what it did not save."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from foodflow.core.errors import DomainError, PermissionDeniedError
from foodflow.core.models import Notification
from foodflow.inventory.models import Reservation, StockBalance, StockMove
from foodflow.inventory.services import lot_hold
from foodflow.sales.approvals import APPROVABLES, approval_decide, approval_queue
from foodflow.sales.fulfilment import delivery_ship
from foodflow.sales.models import CreditNote, CustomerReturn, DeliveryLine, Invoice, SalesOrder
from foodflow.service import services
from foodflow.service.models import Complaint, ComplaintAction, Remedy
from foodflow.service.remedies import (
    complaint_credit_request,
    complaint_replace,
    complaint_return,
    remedies_to_issue,
    remedy_credit_issue,
)

pytestmark = pytest.mark.django_db


# --- fixtures and helpers --------------------------------------------------------------------------


@pytest.fixture
def complaint_about_m_old(sworld, m_old_shipped):
    """The world's customer complains about the milk of lot M-OLD it received (30 milk and 5
    yoghurt on one shipped delivery, whose receivable is open); nobody handles it yet."""
    return sworld.complaint(lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer)


def refused(call, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.as_dict()
    assert caught.value.message
    return caught.value


def on_hand(lot) -> Decimal:
    return StockBalance.objects.get(lot=lot).on_hand


def milk_line(delivery) -> DeliveryLine:
    return delivery.lines.select_related("lot").get(order_line__product__sku=delivery.order.lines.first().product.sku)


def counts() -> tuple[int, ...]:
    return (
        SalesOrder.objects.count(),
        Remedy.objects.count(),
        Reservation.objects.count(),
        CreditNote.objects.count(),
        CustomerReturn.objects.count(),
        ComplaintAction.objects.count(),
    )


def pending_step(user, remedy):
    return next(step for step in approval_queue(user) if step.request.object_id == remedy.pk)


# --- replacement -----------------------------------------------------------------------------------


def test_a_replacement_is_a_no_charge_order_reserved_by_fefo_with_its_delivery_planned(sworld, complaint_about_m_old):
    w = sworld
    tomorrow = timezone.localdate() + timedelta(days=1)

    remedy = complaint_replace(
        by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "6")], reason="胀包，补发", planned_date=tomorrow
    )

    assert (remedy.kind, remedy.state) == ("replacement", "done")
    order = SalesOrder.objects.get(pk=remedy.order_id)
    assert (order.state, order.total, order.credit_override) == ("reserved", Decimal("0.00"), True)
    assert order.customer_id == w.customer.pk and order.customer_reference == complaint_about_m_old.number
    line = order.lines.get()
    assert (line.product_id, line.quantity, line.unit_price, line.amount) == (w.milk.pk, Decimal("6"), 0, 0)
    # FEFO: the earliest expiry with free stock is M-OLD (the complained lot is not held)
    reservation = Reservation.objects.get(reference=str(order), status="active")
    assert (reservation.lot.lot_number, reservation.open_quantity) == ("M-OLD", Decimal("6"))
    delivery = remedy.delivery
    assert (delivery.state, delivery.planned_date, delivery.order_id) == ("planned", tomorrow, order.pk)
    assert [(dl.lot.lot_number, dl.quantity) for dl in delivery.lines.select_related("lot")] == [("M-OLD", 6)]
    assert delivery.address == complaint_about_m_old.delivery.address


def test_a_held_lot_is_never_picked_for_a_replacement(sworld, complaint_about_m_old):
    w = sworld
    lot_hold(by=w.qa, lot=w.lot("M-OLD"), reason="投诉调查")

    remedy = complaint_replace(by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "6")], reason="补发")

    reservation = Reservation.objects.get(reference=str(remedy.order), status="active")
    assert reservation.lot.lot_number == "M-NEW"
    assert set(remedy.delivery.lines.values_list("lot__lot_number", flat=True)) == {"M-NEW"}


def test_a_short_replacement_is_refused_whole_and_saves_nothing(sworld, complaint_about_m_old):
    w = sworld
    before = counts()
    reserved_before = sum(StockBalance.objects.values_list("reserved", flat=True))

    # the yoghurt is there, the milk is not: neither is reserved
    refused(
        lambda: complaint_replace(
            by=w.service,
            complaint=complaint_about_m_old,
            lines=[(w.yoghurt, "2"), (w.milk, "1000")],
            reason="补发",
        ),
        "stock_short",
    )

    assert counts() == before
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == reserved_before
    complaint = Complaint.objects.get(pk=complaint_about_m_old.pk)
    assert (complaint.state, complaint.responded_at) == ("new", None)


def test_shipping_the_replacement_settles_its_zero_receivable_and_completes_the_order(sworld, complaint_about_m_old):
    w = sworld
    remedy = complaint_replace(by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "6")], reason="补发")

    delivery_ship(by=w.planner, delivery=remedy.delivery)

    invoice = Invoice.objects.get(order=remedy.order)
    assert (invoice.amount, invoice.open_amount, invoice.state) == (0, 0, "paid")
    assert SalesOrder.objects.get(pk=remedy.order_id).state == "completed"


def test_a_replacement_checks_its_input(sworld, complaint_about_m_old):
    w = sworld
    before = counts()
    yesterday = timezone.localdate() - timedelta(days=1)

    error = refused(
        lambda: complaint_replace(by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "1")], reason=" "),
        "reason_missing",
    )
    assert "reason" in error.fields
    refused(
        lambda: complaint_replace(
            by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "1")], reason="x", planned_date=yesterday
        ),
        "date_in_past",
    )
    refused(
        lambda: complaint_replace(by=w.service, complaint=complaint_about_m_old, lines=[(w.milk, "0")], reason="x"),
        "invalid_quantity",
    )
    refused(lambda: complaint_replace(by=w.service, complaint=complaint_about_m_old, lines=[], reason="x"), "no_lines")
    assert counts() == before


# --- refund and compensation ------------------------------------------------------------------------


def test_a_small_credit_is_approved_at_once_and_finance_issues_it_against_the_open_receivable(
    sworld, complaint_about_m_old
):
    w = sworld
    invoice = Invoice.objects.get(delivery=complaint_about_m_old.delivery)
    open_before = invoice.open_amount

    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="refund", amount="500", reason="两箱胀包"
    )

    assert (remedy.state, remedy.amount, remedy.credit_note_id) == ("approved", Decimal("500.00"), None)
    assert remedy.decided_at is not None
    assert Notification.objects.filter(recipient=w.finance, kind="complaint_credit_to_issue").count() == 1
    assert list(remedies_to_issue(w.finance)) == [remedy]
    assert list(remedies_to_issue(w.service)) == []
    # the approval engine links the credit to its complaint's page
    assert APPROVABLES["complaint_credit"].url(remedy) == reverse(
        "service:complaint_detail", args=[remedy.complaint_id]
    )

    issued = remedy_credit_issue(by=w.finance, remedy=remedy)

    assert issued.state == "done"
    note = issued.credit_note
    assert (note.amount, note.applied_amount, note.unapplied, note.invoice_id) == (500, 500, 0, invoice.pk)
    invoice.refresh_from_db()
    assert invoice.open_amount == open_before - 500
    assert list(remedies_to_issue(w.finance)) == []
    refused(lambda: remedy_credit_issue(by=w.finance, remedy=issued), "remedy_not_approved")


def test_a_credit_above_2000_waits_for_the_manager_before_finance_issues_it(sworld, complaint_about_m_old):
    w = sworld
    invoice = Invoice.objects.get(delivery=complaint_about_m_old.delivery)

    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="compensation", amount="2500", reason="客户损失"
    )

    assert remedy.state == "pending_approval"
    assert list(remedies_to_issue(w.finance)) == []
    refused(lambda: remedy_credit_issue(by=w.finance, remedy=remedy), "remedy_not_approved")
    assert not any(step.request.object_id == remedy.pk for step in approval_queue(w.service))

    step = pending_step(w.manager, remedy)
    assert step.role.code == "manager"  # the rep's manager, not escalated past them
    approval_decide(step=step, by=w.manager, approve=True, comment="同意")

    remedy.refresh_from_db()
    assert remedy.state == "approved"
    issued = remedy_credit_issue(by=w.finance, remedy=remedy)
    note = issued.credit_note
    # the receivable takes what it still owes; the rest stays with the customer as credit
    assert (note.amount, note.applied_amount, note.unapplied) == (
        Decimal("2500.00"),
        invoice.open_amount,
        Decimal("2500.00") - invoice.open_amount,
    )
    invoice.refresh_from_db()
    assert (invoice.open_amount, invoice.state) == (0, "paid")


def test_a_rejected_credit_is_rejected_with_the_reason(sworld, complaint_about_m_old):
    w = sworld
    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="compensation", amount="5000", reason="客户损失"
    )

    approval_decide(step=pending_step(w.manager, remedy), by=w.manager, approve=False, comment="金额过高")

    remedy.refresh_from_db()
    assert (remedy.state, remedy.reject_reason) == ("rejected", "金额过高")
    refused(lambda: remedy_credit_issue(by=w.finance, remedy=remedy), "remedy_not_approved")
    assert CreditNote.objects.filter(reason__startswith=complaint_about_m_old.number).count() == 0


def test_a_refund_is_never_more_than_the_order_is_worth(sworld, complaint_about_m_old):
    w = sworld
    order = complaint_about_m_old.delivery.order
    before = counts()

    error = refused(
        lambda: complaint_credit_request(
            by=w.service, complaint=complaint_about_m_old, kind="refund", amount=order.total + 1, reason="全额退款"
        ),
        "more_than_order",
    )
    assert "amount" in error.fields
    assert counts() == before

    # what was refunded before counts too
    complaint_credit_request(by=w.service, complaint=complaint_about_m_old, kind="refund", amount="1000", reason="x")
    refused(
        lambda: complaint_credit_request(
            by=w.service, complaint=complaint_about_m_old, kind="refund", amount=order.total - 999, reason="y"
        ),
        "more_than_order",
    )
    # a compensation is not capped by the order
    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="compensation", amount=order.total + 1, reason="z"
    )
    assert (remedy.kind, remedy.amount) == ("compensation", order.total + 1)


def test_only_finance_issues_a_credit(sworld, complaint_about_m_old):
    w = sworld
    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="refund", amount="100", reason="x"
    )

    for user in (w.service, w.manager, w.rep):
        with pytest.raises(PermissionDeniedError) as caught:
            remedy_credit_issue(by=user, remedy=remedy)
        assert caught.value.code == "finance_only"
    assert Remedy.objects.get(pk=remedy.pk).state == "approved"


def test_a_credit_needs_an_order_on_the_complaint_and_a_valid_amount_and_kind(sworld):
    w = sworld
    without_order = w.complaint()
    before = counts()

    refused(
        lambda: complaint_credit_request(by=w.service, complaint=without_order, kind="refund", amount="10", reason="x"),
        "complaint_no_order",
    )
    refused(
        lambda: complaint_credit_request(
            by=w.service, complaint=without_order, kind="compensation", amount="10", reason="x"
        ),
        "complaint_no_order",
    )
    for amount in ("0", "-5", "abc"):
        refused(
            lambda amount=amount: complaint_credit_request(
                by=w.service, complaint=without_order, kind="refund", amount=amount, reason="x"
            ),
            "invalid_amount",
        )
    refused(
        lambda: complaint_credit_request(
            by=w.service, complaint=without_order, kind="replacement", amount="10", reason="x"
        ),
        "invalid_kind",
    )
    assert counts() == before


# --- return of the goods -----------------------------------------------------------------------------


def test_a_restocked_return_puts_the_quantity_back_on_the_lot_and_credits_it(sworld, complaint_about_m_old):
    w = sworld
    lot = w.lot("M-OLD")
    line = milk_line(complaint_about_m_old.delivery)
    stock_before = on_hand(lot)

    remedy = complaint_return(
        by=w.service, complaint=complaint_about_m_old, lines=[(line, "2", "restock")], reason="胀包"
    )

    assert (remedy.kind, remedy.state) == ("return", "done")
    assert on_hand(lot) == stock_before + 2
    back = remedy.customer_return
    assert (back.delivery_id, back.total) == (complaint_about_m_old.delivery_id, Decimal("120.00"))
    assert remedy.amount == Decimal("120.00")
    assert remedy.credit_note is not None and remedy.credit_note.customer_return_id == back.pk
    assert remedy.credit_note.amount == Decimal("120.00")
    assert StockMove.objects.filter(reference=back.number, kind="return", lot=lot).count() == 1


def test_a_scrapped_return_is_received_and_scrapped(sworld, complaint_about_m_old):
    w = sworld
    lot = w.lot("M-OLD")
    line = milk_line(complaint_about_m_old.delivery)
    stock_before = on_hand(lot)

    remedy = complaint_return(
        by=w.service, complaint=complaint_about_m_old, lines=[(line, "3", "scrap")], reason="异味"
    )

    assert on_hand(lot) == stock_before
    back = remedy.customer_return
    assert StockMove.objects.filter(reference=back.number, kind="return", lot=lot).get().on_hand_change == 3
    assert StockMove.objects.filter(kind="scrap", lot=lot).get().on_hand_change == -3
    assert remedy.credit_note.amount == Decimal("180.00")


def test_a_return_takes_only_lines_of_the_complaints_delivery(sworld, m_old_shipped, complaint_about_m_old):
    w = sworld
    elsewhere = m_old_shipped.to_south_second.lines.first()
    before = counts()

    error = refused(
        lambda: complaint_return(
            by=w.service, complaint=complaint_about_m_old, lines=[(elsewhere, "1", "restock")], reason="x"
        ),
        "line_not_on_delivery",
    )
    assert "lines" in error.fields
    line = milk_line(complaint_about_m_old.delivery)
    refused(
        lambda: complaint_return(
            by=w.service, complaint=complaint_about_m_old, lines=[(line, "31", "restock")], reason="x"
        ),
        "more_than_delivered",
    )
    refused(
        lambda: complaint_return(
            by=w.service, complaint=complaint_about_m_old, lines=[(line, "0", "restock")], reason="x"
        ),
        "no_lines",
    )
    refused(
        lambda: complaint_return(by=w.service, complaint=w.complaint(), lines=[(line, "1", "restock")], reason="x"),
        "complaint_no_delivery",
    )
    assert counts()[:5] == before[:5]


# --- the complaint around the remedies ----------------------------------------------------------------


def test_a_remedy_on_a_closed_complaint_is_refused(sworld, complaint_about_m_old):
    w = sworld
    complaint = complaint_about_m_old
    services.complaint_add_action(by=w.service, complaint=complaint, kind="call", note="已联系客户")
    services.complaint_resolve(
        by=w.service, complaint=complaint, resolution="补发", root_cause="运输", corrective_action="加固"
    )
    complaint = services.complaint_confirm(by=w.service, complaint=complaint)
    line = milk_line(complaint.delivery)
    before = counts()

    refused(
        lambda: complaint_replace(by=w.service, complaint=complaint, lines=[(w.milk, "1")], reason="x"),
        "complaint_not_open",
    )
    refused(
        lambda: complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="1", reason="x"),
        "complaint_not_open",
    )
    refused(
        lambda: complaint_return(by=w.service, complaint=complaint, lines=[(line, "1", "restock")], reason="x"),
        "complaint_not_open",
    )
    assert counts() == before


def test_the_first_remedy_of_a_new_complaint_is_its_first_response(sworld, complaint_about_m_old):
    w = sworld
    assert (complaint_about_m_old.state, complaint_about_m_old.owner) == ("new", None)

    remedy = complaint_credit_request(
        by=w.service, complaint=complaint_about_m_old, kind="refund", amount="50", reason="x"
    )

    complaint = Complaint.objects.get(pk=complaint_about_m_old.pk)
    assert complaint.state == "in_progress"
    assert complaint.responded_at is not None and complaint.owner == w.service
    action = complaint.actions.get(kind="remedy")
    assert action.by == w.service and "50.00" in action.note
    assert remedy.complaint_id == complaint.pk


@pytest.mark.parametrize("who", ["rep", "qa", "finance", "manager"])
def test_only_who_handles_the_complaint_gives_a_remedy(sworld, complaint_about_m_old, who):
    w = sworld
    user = getattr(w, who)
    line = milk_line(complaint_about_m_old.delivery)
    before = counts()

    for call in (
        lambda: complaint_replace(by=user, complaint=complaint_about_m_old, lines=[(w.milk, "1")], reason="x"),
        lambda: complaint_credit_request(
            by=user, complaint=complaint_about_m_old, kind="refund", amount="1", reason="x"
        ),
        lambda: complaint_return(by=user, complaint=complaint_about_m_old, lines=[(line, "1", "restock")], reason="x"),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    assert counts() == before


# --- many users at once (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_complaints_about_one_order_never_refund_it_twice_over(sworld, m_old_shipped):
    """Each complaint locks only itself: without the order's lock both refunds would see the
    other missing and together refund more than the order is worth."""
    from foodflow.accounts.models import User
    from foodflow.testing.browser import migration_defaults_restore
    from foodflow.testing.concurrency import run_concurrently

    migration_defaults_restore()
    w = sworld
    delivery = m_old_shipped.to_customer
    order = delivery.order
    first, second = w.complaint(delivery=delivery), w.complaint(delivery=delivery)
    half = (order.total * Decimal("0.6")).quantize(Decimal("0.01"))

    def refund(complaint_pk: int):
        return complaint_credit_request(
            by=User.objects.get(pk=w.service.pk),
            complaint=Complaint.objects.get(pk=complaint_pk),
            kind="refund",
            amount=half,
            reason="同一订单",
        )

    results = run_concurrently(refund, [(first.pk,), (second.pk,)])

    refusals = [r.code for r in results if isinstance(r, DomainError)]
    assert refusals == ["more_than_order"], results
    assert Remedy.objects.filter(kind="refund").count() == 1
