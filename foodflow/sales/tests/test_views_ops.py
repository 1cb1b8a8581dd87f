"""The reviewer's, planner's and finance's pages over HTTP: an order confirmed through the
services is reviewed, reserved, put on a delivery note and shipped through the pages; finance
records the VAT invoice and a payment against the receivable; refusals keep the input and save
nothing; scopes and permissions hold; aging and reconciliation show the right figures."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.menu_ops import LINKS
from foodflow.sales.models import (
    ApprovalRequest,
    CreditNote,
    Delivery,
    Invoice,
    Payment,
    PaymentAllocation,
    SalesOrder,
)
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import LineInput, order_create, order_submit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def rows(response, testid: str) -> list[str]:
    """The ``data-number`` of each row marked ``data-testid=testid``."""
    return re.findall(rf'data-testid="{testid}" data-number="([^"]+)"', response.content.decode())


def has(response, testid: str) -> bool:
    return f'data-testid="{testid}"' in response.content.decode()


# --- given ----------------------------------------------------------------------------------------


def confirmed_order(world, quantity="10") -> SalesOrder:
    order = order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, quantity)])
    order = order_submit(by=world.rep, order=order)
    assert order.state == "confirmed"
    return order


def reserved_order(world, quantity="10") -> SalesOrder:
    return order_review_decide(by=world.planner, order=confirmed_order(world, quantity), decision="reserve")


def shipped_order(world, quantity="10", deliver=None) -> tuple[SalesOrder, Delivery]:
    """A reserved order with one shipped delivery note (of everything, or of ``deliver``)."""
    order = reserved_order(world, quantity)
    quantities = {order.lines.get().pk: deliver} if deliver else None
    delivery = delivery_create(by=world.planner, order=order, planned_date=TODAY, quantities=quantities)
    delivery = delivery_ship(by=world.planner, delivery=delivery)
    order.refresh_from_db()
    return order, delivery


def credit_held_order(world, client_of) -> SalesOrder:
    """An order confirmed within the customer's credit limit; finance then cut the limit, so
    the planner blocks it for credit on the review screen."""
    from foodflow.crm.services import customer_set_credit

    order = confirmed_order(world)
    customer_set_credit(by=None, customer=world.customer, credit_limit=Decimal("100"), payment_terms_days=30)
    planner = client_of(world.planner)
    screen = planner.get(reverse("sales:order_review", args=[order.pk]))
    assert has(screen, "credit-over") and not has(screen, "request-credit-release")
    reserve = planner.post(reverse("sales:order_review", args=[order.pk]), {"decision": "reserve", "note": ""})
    assert reserve.status_code == 200 and reserve.context["decide_form"].non_field_errors()  # over the limit
    response = planner.post(reverse("sales:order_review", args=[order.pk]), {"decision": "credit_hold", "note": "超额"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "credit_hold"
    return order


# --- review and delivery --------------------------------------------------------------------------


def test_the_planner_reviews_reserves_plans_and_ships_an_order(world, client_of):
    order = confirmed_order(world, "150")
    line = order.lines.get()
    planner = client_of(world.planner)

    queue = planner.get(reverse("sales:review_queue"))
    assert rows(queue, "review-row") == [order.number]

    screen = planner.get(reverse("sales:order_review", args=[order.pk]))
    assert screen.status_code == 200
    page = screen.content.decode()
    # FEFO: the older lot first, then the newer one for the rest
    lots = re.findall(r'data-testid="fefo-lot" data-lot="([^"]+)"', page)
    assert lots == ["M-OLD", "M-NEW"]
    assert has(screen, "credit-ok") and has(screen, "shelf-life-rule") and has(screen, "sign-off")

    response = planner.post(reverse("sales:order_review", args=[order.pk]), {"decision": "reserve", "note": ""})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "reserved"
    assert rows(planner.get(reverse("sales:review_queue")), "review-row") == []
    assert rows(planner.get(reverse("sales:deliveries")), "ready-row") == [order.number]

    form = planner.get(reverse("sales:delivery_create", args=[order.pk]))
    assert form.context["form"][f"qty_{line.pk}"].value() == Decimal("150")  # everything reserved by default
    response = planner.post(
        reverse("sales:delivery_create", args=[order.pk]),
        {f"qty_{line.pk}": "100", "planned_date": TODAY.isoformat(), "carrier": "顺丰", "address": "上海市浦东新区"},
    )
    delivery = Delivery.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == reverse("sales:delivery_detail", args=[delivery.pk])
    assert (delivery.carrier, delivery.state) == ("顺丰", "planned")
    assert [dl.lot.lot_number for dl in delivery.lines.all()] == ["M-OLD"]

    board = planner.get(reverse("sales:deliveries"))
    assert rows(board, "board-delivery") == [delivery.number]
    detail = planner.get(reverse("sales:delivery_detail", args=[delivery.pk]))
    assert re.findall(r'data-testid="lot-number">([^<]+)<', detail.content.decode()) == ["M-OLD"]
    assert has(detail, "confirm-ship")  # shipping asks first

    assert planner.get(reverse("sales:delivery_ship", args=[delivery.pk])).status_code == 405
    response = planner.post(reverse("sales:delivery_ship", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    order.refresh_from_db()
    assert delivery.state == "shipped" and order.state == "partially_delivered"
    assert Invoice.objects.get(delivery=delivery).amount == Decimal("6000.00")

    received = planner.post(
        reverse("sales:delivery_receive", args=[delivery.pk]), {"received_on": TODAY.isoformat(), "signed_by": "张三"}
    )
    assert received.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.signed_by) == ("received", "张三")


def test_a_short_line_shows_the_production_date_or_why_there_is_none(world, client_of):
    from foodflow.inventory.models import LineCapacity, ProductionLine

    order = confirmed_order(world, "500")  # 400 in stock
    planner = client_of(world.planner)
    review = reverse("sales:order_review", args=[order.pk])

    no_line = planner.get(review)
    assert has(no_line, "capacity-error") and not has(no_line, "ready-date")
    line = ProductionLine.objects.create(code="L1", name="UHT 1", works_weekends=True)
    LineCapacity.objects.create(line=line, family=world.milk.family, daily_quantity=Decimal("200"))
    screen = planner.get(review)
    assert re.search(r'data-testid="short">100<', screen.content.decode())
    assert has(screen, "ready-date") and not has(screen, "capacity-error")

    response = planner.post(review, {"decision": "production", "note": "", "promised_date": ""})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "production" and order.promised_date == screen.context["findings"].promised_date


def test_the_rest_is_reserved_when_stock_comes_in(world, client_of, receive):
    from foodflow.inventory.models import Reservation

    order = confirmed_order(world, "500")
    planner = client_of(world.planner)
    review = reverse("sales:order_review", args=[order.pk])
    later = (TODAY + timedelta(days=7)).isoformat()
    partial = planner.post(review, {"decision": "partial", "note": "余量下周", "promised_date": later})
    assert partial.status_code == 302
    order.refresh_from_db()
    assert order.state == "reserved" and not has(planner.get(review), "reserve-rest")

    receive(world.milk, "M-NEXT", produced_days_ago=1, quantity=200)
    assert has(planner.get(review), "reserve-rest")
    response = planner.post(reverse("sales:order_reserve_rest", args=[order.pk]))

    assert response.status_code == 302
    held = Reservation.objects.filter(reference=str(order), status="active").values_list("open_quantity", flat=True)
    assert sum(held) == 500


def test_a_delivery_beyond_what_is_reserved_is_refused_with_the_input_kept(world, client_of):
    order = reserved_order(world, "10")
    line = order.lines.get()
    delivery_create(by=world.planner, order=order, planned_date=TODAY, quantities={line.pk: "6"})
    planner = client_of(world.planner)

    response = planner.post(
        reverse("sales:delivery_create", args=[order.pk]),
        {f"qty_{line.pk}": "10", "planned_date": TODAY.isoformat(), "carrier": "德邦", "address": ""},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[f"qty_{line.pk}"]  # the service's error under the line it concerns
    assert form[f"qty_{line.pk}"].value() == "10" and form["carrier"].value() == "德邦"
    assert Delivery.objects.filter(order=order).count() == 1


def test_a_planned_note_is_cancelled_and_a_partial_order_closed_short(world, client_of):
    order, _shipped = shipped_order(world, "10", deliver="6")
    planner = client_of(world.planner)
    planned = delivery_create(by=world.planner, order=order, planned_date=TODAY)

    refused = planner.post(reverse("sales:order_close_short", args=[order.pk]), {"reason": "缺货"})
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()  # a note is still planned
    order.refresh_from_db()
    assert order.state == "partially_delivered"

    assert planner.post(reverse("sales:delivery_cancel", args=[planned.pk]), {"reason": "车辆故障"}).status_code == 302
    planned.refresh_from_db()
    assert planned.state == "cancelled"

    no_reason = planner.post(reverse("sales:order_close_short", args=[order.pk]), {"reason": ""})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors["reason"]
    closed = planner.post(reverse("sales:order_close_short", args=[order.pk]), {"reason": "缺货"})
    assert closed.status_code == 302
    order.refresh_from_db()
    assert order.state == "delivered" and order.short_reason == "缺货"


def test_a_rep_cannot_open_the_review_screen_or_the_delivery_board(world, client_of):
    order = confirmed_order(world)
    rep = client_of(world.rep)

    assert rep.get(reverse("sales:order_review", args=[order.pk])).status_code == 403
    assert rep.post(reverse("sales:order_review", args=[order.pk]), {"decision": "reserve"}).status_code == 403
    assert rep.get(reverse("sales:review_queue")).status_code == 403
    assert rep.get(reverse("sales:deliveries")).status_code == 403
    order.refresh_from_db()
    assert order.state == "confirmed"


def test_a_return_to_sales_needs_a_reason_and_keeps_the_choice(world, client_of):
    order = confirmed_order(world)
    planner = client_of(world.planner)

    response = planner.post(reverse("sales:order_review", args=[order.pk]), {"decision": "return", "note": ""})

    assert response.status_code == 200
    form = response.context["decide_form"]
    assert form.errors["note"] and form["decision"].value() == "return"
    order.refresh_from_db()
    assert order.state == "confirmed"


def test_finance_asks_for_a_credit_release_of_a_held_order(world, client_of):
    order = credit_held_order(world, client_of)
    finance = client_of(world.finance)

    screen = finance.get(reverse("sales:order_review", args=[order.pk]))
    assert screen.status_code == 200 and has(screen, "request-credit-release") and not has(screen, "sign-off")
    empty = finance.post(reverse("sales:credit_release", args=[order.pk]), {"reason": ""})
    assert empty.status_code == 200 and empty.context["release_form"].errors["reason"]
    assert not ApprovalRequest.objects.filter(doc_type="credit_release").exists()

    response = finance.post(reverse("sales:credit_release", args=[order.pk]), {"reason": "客户已承诺月底付款"})

    assert response.status_code == 302
    request = ApprovalRequest.objects.get(doc_type="credit_release", object_id=order.pk)
    assert request.state == "pending" and request.note == "客户已承诺月底付款"
    # the planner may not ask; the rep may not even look
    assert (
        client_of(world.planner).post(reverse("sales:credit_release", args=[order.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert client_of(world.rep).get(reverse("sales:order_review", args=[order.pk])).status_code == 403


# --- receivables and payments ----------------------------------------------------------------------


def test_finance_records_the_vat_invoice_and_a_payment_that_settles_the_receivable(world, client_of):
    order, delivery = shipped_order(world)
    invoice = Invoice.objects.get(delivery=delivery)
    assert invoice.amount == Decimal("600.00")
    finance = client_of(world.finance)

    listed = finance.get(reverse("sales:receivables"))
    assert rows(listed, "receivable-row") == [invoice.number]

    bad = finance.post(
        reverse("sales:invoice_issue", args=[invoice.pk]),
        {"vat_type": "special", "vat_number": "12AB", "vat_date": TODAY.isoformat()},
    )
    assert bad.status_code == 200 and bad.context["vat_form"].errors["vat_number"]
    issued = finance.post(
        reverse("sales:invoice_issue", args=[invoice.pk]),
        {"vat_type": "special", "vat_number": "12345678", "vat_date": TODAY.isoformat()},
    )
    assert issued.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.state, invoice.vat_number) == ("issued", "12345678")

    form = finance.get(reverse("sales:payment_create"), {"customer": world.customer.pk, "amount": "600.00"})
    assert rows(form, "allocation-input-row") == [invoice.number]
    assert form.context["form"]["amount"].value() == "600.00"  # what was typed before showing the receivables
    response = finance.post(
        reverse("sales:payment_create"),
        {
            "customer": world.customer.pk,
            "amount": "600.00",
            "received_on": TODAY.isoformat(),
            "method": "transfer",
            "reference": "BANK-001",
            f"alloc_{invoice.pk}": "600.00",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("sales:payment_detail", args=[payment.pk])
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert invoice.state == "paid" and invoice.open_amount == 0
    assert order.state == "completed"

    detail = finance.get(reverse("sales:invoice_detail", args=[invoice.pk]))
    assert 'data-testid="invoice-state" data-state="paid"' in detail.content.decode()
    assert re.search(r'data-testid="open">0\.00<', detail.content.decode())
    assert rows(finance.get(reverse("sales:receivables"), {"state": "paid"}), "receivable-row") == [invoice.number]
    assert rows(finance.get(reverse("sales:payments")), "payment-row") == [payment.number]


def test_paying_from_a_receivable_proposes_its_open_amount(world, client_of):
    order, _delivery = shipped_order(world)
    invoice = Invoice.objects.get(order=order)
    page = client_of(world.finance).get(
        reverse("sales:payment_create"), {"customer": world.customer.pk, "invoice": invoice.pk}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert f'name="amount" value="{invoice.open_amount}"' in html
    assert f'name="alloc_{invoice.pk}" value="{invoice.open_amount}"' in html


def test_an_over_allocation_shows_an_error_saves_nothing_and_keeps_the_input(world, client_of):
    _order, delivery = shipped_order(world)
    invoice = Invoice.objects.get(delivery=delivery)
    finance = client_of(world.finance)
    payment = {
        "customer": world.customer.pk,
        "amount": "100.00",
        "received_on": TODAY.isoformat(),
        "method": "transfer",
        "reference": "BANK-009",
    }

    more_than_paid = finance.post(reverse("sales:payment_create"), {**payment, f"alloc_{invoice.pk}": "200"})
    more_than_open = finance.post(
        reverse("sales:payment_create"), {**payment, "amount": "1000", f"alloc_{invoice.pk}": "700"}
    )

    for response in (more_than_paid, more_than_open):
        assert response.status_code == 200 and has(response, "form-errors")
        form = response.context["form"]
        assert form["reference"].value() == "BANK-009"
    assert more_than_paid.context["form"][f"alloc_{invoice.pk}"].value() == "200"
    assert invoice.number in more_than_open.context["form"].non_field_errors()[0]  # which receivable is short
    assert Payment.objects.count() == 0 and PaymentAllocation.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.paid_amount == 0


def test_the_rest_of_a_payment_is_allocated_later_oldest_first(world, client_of):
    _first, first_delivery = shipped_order(world)
    _second, second_delivery = shipped_order(world)
    finance = client_of(world.finance)
    finance.post(
        reverse("sales:payment_create"),
        {"customer": world.customer.pk, "amount": "1000", "received_on": TODAY.isoformat(), "method": "transfer"},
    )
    payment = Payment.objects.get()
    assert payment.unallocated == Decimal("1000.00")

    response = finance.post(reverse("sales:payment_allocate", args=[payment.pk]), {"auto_allocate": "on"})

    assert response.status_code == 302
    payment.refresh_from_db()
    first, second = (Invoice.objects.get(delivery=d) for d in (first_delivery, second_delivery))
    assert payment.unallocated == 0
    assert (first.paid_amount, second.paid_amount) == (Decimal("600.00"), Decimal("400.00"))


def test_a_return_is_recorded_from_the_delivery_with_its_credit_note(world, client_of):
    _order, delivery = shipped_order(world)
    line = delivery.lines.get()
    finance = client_of(world.finance)

    too_many = finance.post(
        reverse("sales:return_create", args=[delivery.pk]),
        {f"qty_{line.pk}": "11", f"disp_{line.pk}": "restock", "reason": "包装破损", "received_on": TODAY.isoformat()},
    )
    assert too_many.status_code == 200 and too_many.context["form"].errors[f"qty_{line.pk}"]
    response = finance.post(
        reverse("sales:return_create", args=[delivery.pk]),
        {f"qty_{line.pk}": "2", f"disp_{line.pk}": "restock", "reason": "包装破损", "received_on": TODAY.isoformat()},
    )

    note = CreditNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:return_detail", args=[note.customer_return_id])
    detail = finance.get(response["Location"])
    assert note.number in detail.content.decode() and note.amount == Decimal("120.00")
    assert Invoice.objects.get(delivery=delivery).credited_amount == Decimal("120.00")


def test_the_aging_page_puts_the_open_amount_in_its_bucket(world, client_of):
    _order, delivery = shipped_order(world)
    # a receivable raised 45 days ago with 30-day terms (arranged as imported history would be)
    Invoice.objects.filter(delivery=delivery).update(
        invoice_date=TODAY - timedelta(days=45), due_date=TODAY - timedelta(days=15)
    )

    page = client_of(world.finance).get(reverse("sales:aging")).content.decode()

    cells = dict(re.findall(r'data-testid="aging-cell" data-bucket="([^"]+)">([^<]+)<', page))
    assert cells == {"0-30": "0.00", "31-60": "600.00", "61-90": "0.00", "90+": "0.00"}
    assert re.search(r'data-testid="aging-overdue"><a[^>]*>600\.00<', page)
    overdue = client_of(world.finance).get(reverse("sales:receivables"), {"overdue": "1"})
    assert len(rows(overdue, "receivable-row")) == 1
    # a rep of another region sees none of it
    assert has(client_of(world.other_rep).get(reverse("sales:aging")), "empty-state")


def test_receivables_are_scoped_for_reps(world, client_of):
    _order, delivery = shipped_order(world)
    invoice = Invoice.objects.get(delivery=delivery)

    assert rows(client_of(world.rep).get(reverse("sales:receivables")), "receivable-row") == [invoice.number]
    other = client_of(world.other_rep)
    assert rows(other.get(reverse("sales:receivables")), "receivable-row") == []
    assert other.get(reverse("sales:invoice_detail", args=[invoice.pk])).status_code == 403
    assert (
        client_of(world.rep)
        .post(reverse("sales:invoice_issue", args=[invoice.pk]), {"vat_type": "special", "vat_number": "12345678"})
        .status_code
        == 403
    )


def test_the_receivables_list_query_count_does_not_grow_with_the_rows(world, client_of, django_assert_max_num_queries):
    finance = client_of(world.finance)
    for _ in range(2):
        shipped_order(world, "2")
    with django_assert_max_num_queries(20) as few:
        assert finance.get(reverse("sales:receivables")).status_code == 200
    for _ in range(6):
        shipped_order(world, "2")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = finance.get(reverse("sales:receivables"))

    assert len(rows(response, "receivable-row")) == 8


def test_reconciliation_lists_a_partially_delivered_order(world, client_of):
    partial, _delivery = shipped_order(world, "10", deliver="6")
    assert partial.state == "partially_delivered"
    confirmed_order(world)  # not delivered yet: listed too, as not delivered

    page = client_of(world.finance).get(reverse("sales:reconciliation"))

    assert set(rows(page, "reconciliation-row")) == {
        partial.number,
        SalesOrder.objects.exclude(pk=partial.pk).get().number,
    }
    delivered = re.search(
        rf'data-number="{partial.number}">.*?data-testid="delivered">([^<]+)<', page.content.decode(), re.S
    ).group(1)
    assert delivered == "360.00"
    assert partial.number in rows(client_of(world.manager).get(reverse("sales:reconciliation")), "reconciliation-row")
    assert client_of(world.rep).get(reverse("sales:reconciliation")).status_code == 403


# --- navigation ------------------------------------------------------------------------------------


def test_the_menu_offers_each_role_its_pages(world):
    def labels(user):
        return {link.url_name for link in LINKS if link.allowed(user)}

    assert labels(world.planner) == {"sales:review_queue", "sales:deliveries"}
    assert labels(world.finance) == {
        "sales:review_queue",
        "sales:receivables",
        "sales:payments",
        "sales:reconciliation",
    }
    assert labels(world.rep) == {"sales:receivables"}
    assert labels(world.director) == {"sales:receivables", "sales:reconciliation"}
    assert all(str(link.description) and link.url.startswith("/sales/") for link in LINKS)
