"""The rep's and approver's pages over HTTP: a quotation typed into the form goes through
approval in the manager's queue to the customer and becomes an order; scopes by id; stale
edits; refusals shown as messages; inquiries; orders entered, amended and cancelled; the
approval policies; list query counts that do not grow with the rows."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext, override

from foodflow.core.models import AuditEntry
from foodflow.sales.menu_docs import LINKS
from foodflow.sales.models import ApprovalPolicy, ApprovalStep, Inquiry, Quotation, SalesOrder
from foodflow.sales.services import InquiryLineInput, LineInput, inquiry_create, quotation_create, quotation_update

pytestmark = pytest.mark.django_db

QUOTATION_ROW = re.compile(r'data-testid="quotation-row" data-number="([^"]+)"')
ORDER_ROW = re.compile(r'data-testid="order-row" data-number="([^"]+)"')
INQUIRY_ROW = re.compile(r'data-testid="inquiry-row" data-number="([^"]+)"')


def in_chinese(message: str) -> str:
    """A message as the pages show it to a user who kept the default language."""
    with override("zh-hans"):
        return gettext(message)


def html_of(response) -> str:
    return response.content.decode()


def line_data(lines: list[dict], *, initial: int = 0) -> dict:
    data = {
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, line in enumerate(lines):
        for name, value in line.items():
            data[f"lines-{index}-{name}"] = "" if value is None else str(value)
    return data


def commercial_line(product, quantity, *, unit_price="", discount_percent="") -> dict:
    return {"product": product.pk, "quantity": quantity, "unit_price": unit_price, "discount_percent": discount_percent}


def quotation_form(customer, lines, **header) -> dict:
    data = {
        "customer": customer.pk,
        "valid_until": "",
        "payment_terms_days": "",
        "delivery_terms": "",
        "wanted_date": "",
        "language": "zh-hans",
        "notes": "",
    }
    return {**data, **header, **line_data(lines)}


def quotation_edit_form(quotation, lines, **header) -> dict:
    data = {
        "valid_until": quotation.valid_until.isoformat(),
        "payment_terms_days": quotation.payment_terms_days,
        "delivery_terms": quotation.delivery_terms,
        "wanted_date": "",
        "language": quotation.language,
        "notes": quotation.notes,
        "lock_version": quotation.lock_version,
    }
    return {**data, **header, **line_data(lines, initial=quotation.lines.count())}


def order_form(customer, lines, **header) -> dict:
    data = {
        "customer": customer.pk,
        "customer_reference": "",
        "delivery_address": "",
        "payment_terms_days": "",
        "delivery_terms": "",
        "wanted_date": "",
        "notes": "",
    }
    return {**data, **header, **line_data(lines)}


def quotation_for(world, *, discount="0", quantity="10", by=None):
    return quotation_create(
        by=by or world.rep,
        customer=world.customer,
        lines=[LineInput(world.milk, quantity, discount=discount)],
    )


def pending_step(document, doc_type="quotation") -> ApprovalStep:
    return ApprovalStep.objects.get(request__doc_type=doc_type, request__object_id=document.pk, state="pending")


# --- the whole way through the pages -------------------------------------------------------------


def test_a_quotation_typed_in_goes_through_approval_to_an_order(client_of, world):
    rep, manager = client_of(world.rep), client_of(world.manager)

    # the rep types a quotation: 8 % off milk is above a rep's 5 % ceiling
    response = rep.post(
        reverse("sales:quotation_create"),
        quotation_form(
            world.customer,
            [commercial_line(world.milk, "150", discount_percent="8"), commercial_line(world.yoghurt, "20")],
            notes="春节备货",
        ),
    )
    quotation = Quotation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:quotation_detail", args=[quotation.pk]
    )
    milk, yoghurt = quotation.lines.order_by("position")
    assert milk.discount == Decimal("0.0800")  # typed as percent, stored as a fraction
    assert (milk.unit_price, yoghurt.unit_price) == (Decimal("60.00"), Decimal("36.50"))  # blank: the list price
    assert quotation.total == Decimal("9010.00")  # 150 × 60 × 0.92 + 20 × 36.50
    page = html_of(rep.get(reverse("sales:quotation_detail", args=[quotation.pk])))
    assert 'data-testid="line-discount">8 %' in page and 'data-testid="document-total">¥9010.00' in page

    # submitted, it waits for the manager, with the reason in the queue
    rep.post(reverse("sales:quotation_submit", args=[quotation.pk]))
    quotation.refresh_from_db()
    assert quotation.state == "pending_approval"
    step = pending_step(quotation)
    queue = html_of(manager.get(reverse("sales:approvals")))
    assert f'data-step="{step.pk}"' in queue
    assert 'data-code="discount_above_ceiling"' in queue
    assert escape(step.reasons[0]["message"]) in queue

    # the manager approves through the queue
    response = manager.post(reverse("sales:approval_approve", args=[step.pk]), {"comment": "同意"})
    assert response.status_code == 302
    quotation.refresh_from_db()
    assert quotation.state == "approved"
    queue = html_of(manager.get(reverse("sales:approvals")))
    assert f'data-step="{step.pk}"' not in queue and 'data-testid="decided-row" data-state="approved"' in queue

    # sent, accepted, and the order repeats it
    rep.post(reverse("sales:quotation_send", args=[quotation.pk]))
    rep.post(reverse("sales:quotation_accept", args=[quotation.pk]))
    quotation.refresh_from_db()
    assert quotation.state == "accepted"
    assert 'data-testid="action-order"' in html_of(rep.get(reverse("sales:quotation_detail", args=[quotation.pk])))
    response = rep.post(reverse("sales:quotation_order", args=[quotation.pk]), {"customer_reference": "PO-778"})
    order = SalesOrder.objects.get(quotation=quotation)
    assert response["Location"] == reverse("sales:order_detail", args=[order.pk])
    assert (order.total, order.customer_reference, order.state) == (quotation.total, "PO-778", "draft")

    page = html_of(rep.get(reverse("sales:order_detail", args=[order.pk])))
    assert order.number in page and 'data-testid="order-quotation"' in page
    assert 'data-testid="action-submit"' in page
    rep.post(reverse("sales:order_submit", args=[order.pk]))
    order.refresh_from_db()
    assert order.state == "confirmed"  # the approved terms are not asked again
    assert ORDER_ROW.findall(html_of(rep.get(reverse("sales:orders")))) == [order.number]


def test_the_approval_history_shows_reasons_and_decisions_on_the_document(client_of, world):
    quotation = quotation_for(world, discount="0.08")
    client_of(world.rep).post(reverse("sales:quotation_submit", args=[quotation.pk]))
    step = pending_step(quotation)
    client_of(world.manager).post(reverse("sales:approval_approve", args=[step.pk]), {"comment": "价格可以"})

    page = html_of(client_of(world.rep).get(reverse("sales:quotation_detail", args=[quotation.pk])))

    assert 'data-testid="approval-step" data-state="approved"' in page
    assert escape(step.reasons[0]["message"]) in page and "价格可以" in page


# --- scope and permissions ------------------------------------------------------------------------


def test_a_rep_cannot_see_or_touch_another_reps_quotation(client_of, world):
    quotation = quotation_for(world)
    other = client_of(world.other_rep)

    for name in ("sales:quotation_detail", "sales:quotation_edit", "sales:quotation_pdf"):
        assert other.get(reverse(name, args=[quotation.pk])).status_code in (403, 404)
    for name in ("sales:quotation_submit", "sales:quotation_cancel", "sales:quotation_copy", "sales:quotation_revise"):
        assert other.post(reverse(name, args=[quotation.pk]), {"reason": "x"}).status_code in (403, 404)
    assert QUOTATION_ROW.findall(html_of(other.get(reverse("sales:quotations")))) == []
    quotation.refresh_from_db()
    assert quotation.state == "draft" and Quotation.objects.count() == 1
    # its own rep and the team's manager do see it
    assert client_of(world.rep).get(reverse("sales:quotation_detail", args=[quotation.pk])).status_code == 200
    assert QUOTATION_ROW.findall(html_of(client_of(world.manager).get(reverse("sales:quotations")))) == [
        quotation.number
    ]


def test_the_customer_list_of_the_form_holds_only_customers_in_scope(client_of, world):
    page = html_of(client_of(world.other_rep).get(reverse("sales:quotation_create")))
    assert world.customer.name not in page

    response = client_of(world.other_rep).post(
        reverse("sales:quotation_create"), quotation_form(world.customer, [commercial_line(world.milk, "1")])
    )
    assert response.status_code == 200 and Quotation.objects.count() == 0


def test_a_missing_document_is_404(client_of, world):
    assert client_of(world.rep).get(reverse("sales:quotation_detail", args=[999999])).status_code == 404
    assert client_of(world.rep).get(reverse("sales:order_detail", args=[999999])).status_code == 404


# --- editing: stale versions, voided approvals, refusals ------------------------------------------


def test_a_stale_edit_shows_the_conflict_and_keeps_the_users_input(client_of, world):
    quotation = quotation_for(world)
    rep = client_of(world.rep)
    seen = quotation.lock_version
    edit_page = html_of(rep.get(reverse("sales:quotation_edit", args=[quotation.pk])))
    assert f'name="lock_version" value="{seen}"' in edit_page
    # someone else saves first
    quotation_update(by=world.rep, quotation=quotation, expected_version=seen, notes="别人的修改")

    response = rep.post(
        reverse("sales:quotation_edit", args=[quotation.pk]),
        quotation_edit_form(quotation, [commercial_line(world.milk, "12")], notes="我的修改", lock_version=seen),
    )

    page = html_of(response)
    assert response.status_code == 200 and 'data-testid="conflict"' in page
    assert in_chinese("The record was changed by someone else. Reload it and try again.") in page
    assert "我的修改" in page and 'value="12"' in page  # the user's input is kept
    quotation.refresh_from_db()
    assert quotation.notes == "别人的修改" and quotation.lines.get().quantity == Decimal("10")
    # the page now carries the version the user has seen: saving again is deliberate and goes through
    assert f'name="lock_version" value="{seen + 1}"' in page
    response = rep.post(
        reverse("sales:quotation_edit", args=[quotation.pk]),
        quotation_edit_form(quotation, [commercial_line(world.milk, "12")], notes="我的修改", lock_version=seen + 1),
    )
    assert response.status_code == 302
    quotation.refresh_from_db()
    assert quotation.notes == "我的修改" and quotation.lines.get().quantity == Decimal("12")


def test_an_edit_keeps_unchanged_lines_and_shows_a_service_error_under_the_line(client_of, world):
    quotation = quotation_create(
        by=world.rep,
        customer=world.customer,
        lines=[LineInput(world.milk, "10", discount="0.03"), LineInput(world.yoghurt, "5")],
    )
    rep = client_of(world.rep)
    page = html_of(rep.get(reverse("sales:quotation_edit", args=[quotation.pk])))
    assert 'name="lines-0-discount_percent" value="3"' in page and 'name="lines-1-quantity" value="5"' in page

    # the second line removed, a price that the service refuses on the first
    lines = [
        commercial_line(world.milk, "10", unit_price="-1", discount_percent="3"),
        {**commercial_line(world.yoghurt, "5"), "DELETE": "on"},
    ]
    response = rep.post(reverse("sales:quotation_edit", args=[quotation.pk]), quotation_edit_form(quotation, lines))
    assert response.status_code == 200
    assert in_chinese("A price cannot be negative.") in html_of(response)

    lines[0]["unit_price"] = "58.00"
    response = rep.post(reverse("sales:quotation_edit", args=[quotation.pk]), quotation_edit_form(quotation, lines))
    assert response.status_code == 302
    line = quotation.lines.get()
    assert (line.unit_price, line.discount) == (Decimal("58.00"), Decimal("0.0300"))


def test_the_add_line_button_works_without_javascript(client_of, world):
    data = quotation_form(world.customer, [commercial_line(world.milk, "3")])
    data["add_line"] = "1"

    response = client_of(world.rep).post(reverse("sales:quotation_create"), data)

    page = html_of(response)
    assert response.status_code == 200 and Quotation.objects.count() == 0
    assert 'name="lines-TOTAL_FORMS" value="2"' in page and 'name="lines-1-product"' in page


def test_the_line_price_preview_names_the_price_and_its_rule(client_of, world):
    response = client_of(world.rep).get(
        reverse("sales:line_price"),
        {
            "prefix": "lines-0",
            "customer": world.customer.pk,
            "lines-0-product": world.milk.pk,
            "lines-0-quantity": "10",
            "lines-0-discount_percent": "20",
        },
    )

    page = html_of(response)
    assert response.status_code == 200 and 'data-testid="price-preview"' in page
    assert "¥60.00" in page and "基础价" in page and "¥480.00" in page
    assert 'data-testid="below-floor"' in page  # 48.00 net is below the 50.00 floor
    other = client_of(world.other_rep).get(
        reverse("sales:line_price"),
        {"prefix": "lines-0", "customer": world.customer.pk, "lines-0-product": world.milk.pk, "lines-0-quantity": "1"},
    )
    assert 'data-testid="price-preview"' not in html_of(other)  # not the other rep's customer


def test_reject_without_a_comment_is_refused(client_of, world):
    quotation = quotation_for(world, discount="0.08")
    client_of(world.rep).post(reverse("sales:quotation_submit", args=[quotation.pk]))
    step = pending_step(quotation)
    manager = client_of(world.manager)

    response = manager.post(reverse("sales:approval_reject", args=[step.pk]), {"comment": "  "}, follow=True)

    assert in_chinese("Say why you reject it.") in html_of(response)
    step.refresh_from_db()
    quotation.refresh_from_db()
    assert step.state == "pending" and quotation.state == "pending_approval"

    manager.post(reverse("sales:approval_reject", args=[step.pk]), {"comment": "折扣太高"})
    step.refresh_from_db()
    quotation.refresh_from_db()
    assert (step.state, step.comment, quotation.state) == ("rejected", "折扣太高", "draft")


def test_a_write_off_waits_in_the_directors_queue_with_its_customer(client_of, world):
    from django.urls import NoReverseMatch
    from django.utils import timezone

    from foodflow.sales.fulfilment import delivery_create, delivery_ship
    from foodflow.sales.models import Invoice
    from foodflow.sales.receivables import writeoff_request
    from foodflow.sales.review import order_review_decide
    from foodflow.sales.services import order_create, order_submit

    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    order_review_decide(by=world.planner, order=order, decision="reserve")
    delivery_ship(
        by=world.planner, delivery=delivery_create(by=world.planner, order=order, planned_date=timezone.localdate())
    )
    invoice = Invoice.objects.get(order=order)
    writeoff = writeoff_request(by=world.finance, invoice=invoice, amount="100", reason="尾差")
    step = pending_step(writeoff, "write_off")

    queue = html_of(client_of(world.director).get(reverse("sales:approvals")))

    row = queue[queue.index(f'data-step="{step.pk}"') :]
    row = row[: row.index("</tr>")]
    assert world.customer.name in row and "¥100.00" in row
    try:  # the receivable's page belongs to another part of order to cash
        assert f'href="{reverse("sales:invoice_detail", args=[invoice.pk])}"' in row
    except NoReverseMatch:
        assert 'data-testid="queue-document"' not in row
    client_of(world.director).post(reverse("sales:approval_approve", args=[step.pk]))
    writeoff.refresh_from_db()
    assert writeoff.state == "done"


def test_nobody_decides_a_step_out_of_their_scope(client_of, world, make_user):
    quotation = quotation_for(world, discount="0.08")
    client_of(world.rep).post(reverse("sales:quotation_submit", args=[quotation.pk]))
    step = pending_step(quotation)
    south_manager = make_user("manager", unit="SOUTH-1", username="manager_south")

    assert f'data-step="{step.pk}"' not in html_of(client_of(south_manager).get(reverse("sales:approvals")))
    assert client_of(south_manager).post(reverse("sales:approval_approve", args=[step.pk])).status_code == 403
    assert client_of(world.rep).get(reverse("sales:approvals")).status_code == 403  # reps do not approve
    step.refresh_from_db()
    assert step.state == "pending"


def test_cancel_needs_a_reason_and_revise_makes_a_new_readable_version(client_of, world):
    quotation = quotation_for(world)
    rep = client_of(world.rep)
    rep.post(reverse("sales:quotation_submit", args=[quotation.pk]))  # no policy applies: approved
    rep.post(reverse("sales:quotation_send", args=[quotation.pk]))

    response = rep.post(reverse("sales:quotation_cancel", args=[quotation.pk]), {"reason": ""}, follow=True)
    assert in_chinese("Say why it is cancelled.") in html_of(response)
    quotation.refresh_from_db()
    assert quotation.state == "sent"

    response = rep.post(reverse("sales:quotation_revise", args=[quotation.pk]))
    revision = Quotation.objects.get(number=quotation.number, version=2)
    assert response["Location"] == reverse("sales:quotation_edit", args=[revision.pk])
    page = html_of(rep.get(reverse("sales:quotation_detail", args=[quotation.pk])))
    assert 'data-testid="not-current"' in page
    assert 'data-version="1"' in page and 'data-version="2"' in page
    assert 'data-testid="action-send"' not in page  # a superseded version offers no step
    # the list shows the current version only, unless asked for all
    assert QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations")))) == [quotation.number]
    assert len(QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations"), {"versions": "on"})))) == 2

    rep.post(reverse("sales:quotation_cancel", args=[revision.pk]), {"reason": "客户不再需要"})
    revision.refresh_from_db()
    assert revision.state == "cancelled"


def test_copy_makes_a_new_draft_quotation(client_of, world):
    quotation = quotation_for(world, discount="0.02")

    response = client_of(world.rep).post(reverse("sales:quotation_copy", args=[quotation.pk]), {"customer": ""})

    copy = Quotation.objects.exclude(pk=quotation.pk).get()
    assert response["Location"] == reverse("sales:quotation_detail", args=[copy.pk])
    assert copy.number != quotation.number and copy.state == "draft" and copy.copied_from == quotation


# --- the pipelines --------------------------------------------------------------------------------


def test_the_lists_search_filter_and_show_empty_states(client_of, world):
    rep = client_of(world.rep)
    empty = html_of(rep.get(reverse("sales:quotations")))
    assert 'data-testid="empty-state"' in empty
    first = quotation_for(world)
    second = quotation_for(world, quantity="20")
    rep.post(reverse("sales:quotation_submit", args=[second.pk]))

    assert QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations"), {"state": "approved"}))) == [
        second.number
    ]
    assert QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations"), {"q": first.number}))) == [first.number]
    assert len(QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations"), {"q": "佳乐汇"})))) == 2
    assert QUOTATION_ROW.findall(html_of(rep.get(reverse("sales:quotations"), {"sort": "total"}))) == [
        first.number,
        second.number,
    ]
    no_match = html_of(rep.get(reverse("sales:quotations"), {"q": "不存在"}))
    assert 'data-testid="empty-state"' in no_match and QUOTATION_ROW.findall(no_match) == []
    # a rep sees only their own: no owner filter; the manager gets one
    assert 'name="owner"' not in html_of(rep.get(reverse("sales:quotations")))
    assert 'name="owner"' in html_of(client_of(world.manager).get(reverse("sales:quotations")))


@pytest.mark.parametrize("list_name", ["sales:quotations", "sales:orders", "sales:inquiries"])
def test_the_list_query_count_does_not_grow_with_the_rows(client_of, world, list_name, django_assert_max_num_queries):
    from foodflow.sales.services import order_create

    def make(count):
        for _ in range(count):
            if list_name == "sales:quotations":
                quotation_for(world)
            elif list_name == "sales:orders":
                order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "1")])
            else:
                inquiry_create(
                    by=world.rep, customer=world.customer, channel="phone", lines=[InquiryLineInput("5", world.milk)]
                )

    manager = client_of(world.manager)
    make(3)
    with django_assert_max_num_queries(20) as few:
        manager.get(reverse(list_name))
    make(20)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager.get(reverse(list_name))

    rows = {"sales:quotations": QUOTATION_ROW, "sales:orders": ORDER_ROW, "sales:inquiries": INQUIRY_ROW}[list_name]
    assert len(rows.findall(html_of(response))) == 23


# --- inquiries ------------------------------------------------------------------------------------


def test_an_inquiry_is_recorded_with_product_and_free_text_lines_and_quoted(client_of, world):
    rep = client_of(world.rep)
    data = {
        "customer": world.customer.pk,
        "channel": "phone",
        "received_on": "2026-01-05",
        "wanted_date": "",
        "notes": "",
        **line_data(
            [
                {"product": world.milk.pk, "description": "", "quantity": "40"},
                {"product": "", "description": "低糖酸奶 1L", "quantity": "12"},
            ]
        ),
    }

    response = rep.post(reverse("sales:inquiry_create"), data)

    inquiry = Inquiry.objects.get()
    assert response["Location"] == reverse("sales:inquiry_detail", args=[inquiry.pk])
    assert [(line.product, line.description) for line in inquiry.lines.all()] == [
        (world.milk, ""),
        (None, "低糖酸奶 1L"),
    ]
    assert 'data-testid="action-quote"' in html_of(rep.get(reverse("sales:inquiry_detail", args=[inquiry.pk])))

    response = rep.post(reverse("sales:inquiry_quote", args=[inquiry.pk]))
    quotation = Quotation.objects.get(inquiry=inquiry)
    assert response["Location"] == reverse("sales:quotation_edit", args=[quotation.pk])
    assert "低糖酸奶 1L" in quotation.notes
    inquiry.refresh_from_db()
    assert inquiry.state == "quoted"


def test_an_inquiry_line_needs_a_product_or_a_description(client_of, world):
    data = {
        "customer": world.customer.pk,
        "channel": "visit",
        "received_on": "2026-01-05",
        **line_data([{"product": "", "description": "", "quantity": "3"}]),
    }

    response = client_of(world.rep).post(reverse("sales:inquiry_create"), data)

    assert response.status_code == 200 and Inquiry.objects.count() == 0
    assert in_chinese("Name a product or describe what is wanted.") in html_of(response)


def test_an_inquiry_is_marked_lost_with_a_reason(client_of, world):
    inquiry = inquiry_create(
        by=world.rep, customer=world.customer, channel="phone", lines=[InquiryLineInput("5", world.milk)]
    )
    rep = client_of(world.rep)

    rep.post(reverse("sales:inquiry_lose", args=[inquiry.pk]), {"reason": ""})
    inquiry.refresh_from_db()
    assert inquiry.state == "open"
    rep.post(reverse("sales:inquiry_lose", args=[inquiry.pk]), {"reason": "价格高于竞品"})
    inquiry.refresh_from_db()
    assert (inquiry.state, inquiry.lost_reason) == ("lost", "价格高于竞品")
    assert client_of(world.other_rep).get(reverse("sales:inquiry_detail", args=[inquiry.pk])).status_code == 403


# --- orders ---------------------------------------------------------------------------------------


def test_an_order_is_entered_confirmed_amended_and_the_amendment_cancelled(client_of, world):
    rep = client_of(world.rep)
    response = rep.post(
        reverse("sales:order_create"),
        order_form(world.customer, [commercial_line(world.milk, "10")], customer_reference="PO-1"),
    )
    order = SalesOrder.objects.get()
    assert response["Location"] == reverse("sales:order_detail", args=[order.pk])
    rep.post(reverse("sales:order_submit", args=[order.pk]))
    order.refresh_from_db()
    assert order.state == "confirmed"
    page = html_of(rep.get(reverse("sales:order_detail", args=[order.pk])))
    assert 'data-testid="action-amend"' in page and 'data-testid="action-edit"' not in page
    assert 'data-testid="order-deliveries"' in page and 'data-testid="order-invoices"' in page

    response = rep.post(reverse("sales:order_amend", args=[order.pk]), {"lock_version": order.lock_version})
    amendment = SalesOrder.objects.get(number=order.number, version=2)
    assert response["Location"] == reverse("sales:order_edit", args=[amendment.pk])
    edit = html_of(rep.get(response["Location"]))
    assert 'name="lines-0-quantity" value="10"' in edit

    response = rep.post(
        reverse("sales:order_edit", args=[amendment.pk]),
        {
            "customer_reference": "PO-1",
            "delivery_address": "",
            "payment_terms_days": "30",
            "delivery_terms": "",
            "wanted_date": "",
            "notes": "",
            "lock_version": amendment.lock_version,
            **line_data([commercial_line(world.milk, "15")], initial=1),
        },
    )
    assert response.status_code == 302
    amendment.refresh_from_db()
    assert amendment.total == Decimal("900.00")
    page = html_of(rep.get(reverse("sales:order_detail", args=[amendment.pk])))
    assert 'data-testid="amendment"' in page

    rep.post(reverse("sales:order_cancel", args=[amendment.pk]), {"reason": "客户改回原数量"})
    amendment.refresh_from_db()
    order.refresh_from_db()
    assert amendment.state == "cancelled" and order.state == "confirmed" and order.is_current


def test_a_confirmed_order_is_not_edited_and_cancel_needs_a_reason(client_of, world):
    from foodflow.sales.services import order_create, order_submit

    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "5")])
    )
    rep = client_of(world.rep)

    response = rep.get(reverse("sales:order_edit", args=[order.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("sales:order_detail", args=[order.pk])
    response = rep.post(reverse("sales:order_cancel", args=[order.pk]), {"reason": ""}, follow=True)
    assert in_chinese("Say why it is cancelled.") in html_of(response)
    order.refresh_from_db()
    assert order.state == "confirmed"
    assert (
        client_of(world.other_rep).post(reverse("sales:order_cancel", args=[order.pk]), {"reason": "x"}).status_code
        == 403
    )


# --- approval policies ----------------------------------------------------------------------------


def policy_data(**changes) -> dict:
    from foodflow.accounts.models import Role

    data = {
        "name": "大额折扣",
        "doc_type": "quotation",
        "condition": "discount_over",
        "threshold": "0.15",
        "approver_role": Role.objects.get(code="director").pk,
        "level": "2",
        "is_active": "on",
    }
    return {**data, **changes}


def test_the_policy_pages_are_for_administrators_only(client_of, world):
    rep = client_of(world.rep)
    assert rep.get(reverse("sales:policies")).status_code == 403
    assert rep.post(reverse("sales:policy_create"), policy_data()).status_code == 403
    assert client_of(world.manager).get(reverse("sales:policies")).status_code == 403
    assert not ApprovalPolicy.objects.filter(name="大额折扣").exists()


def test_an_administrator_creates_edits_and_deactivates_a_policy(client_of, world, admin_user):
    admin = client_of(admin_user)
    assert admin.get(reverse("sales:policies")).status_code == 200

    response = admin.post(reverse("sales:policy_create"), policy_data(threshold="15"))
    assert response.status_code == 200 and not ApprovalPolicy.objects.filter(name="大额折扣").exists()
    assert in_chinese("A discount threshold is a fraction between 0 and 1 (0.10 for 10 %).") in html_of(response)
    response = admin.post(reverse("sales:policy_create"), policy_data(condition="amount_over", threshold=""))
    assert in_chinese("This condition needs a threshold.") in html_of(response)

    admin.post(reverse("sales:policy_create"), policy_data())
    policy = ApprovalPolicy.objects.get(name="大额折扣")
    assert (policy.threshold, policy.level, policy.approver_role.code) == (Decimal("0.1500"), 2, "director")
    admin.post(reverse("sales:policy_edit", args=[policy.pk]), policy_data(threshold="0.2"))
    policy.refresh_from_db()
    assert policy.threshold == Decimal("0.2000")

    admin.post(reverse("sales:policy_deactivate", args=[policy.pk]))
    policy.refresh_from_db()
    assert not policy.is_active
    entries = AuditEntry.objects.filter(object_id=str(policy.pk), object_type="sales.approvalpolicy").order_by("seq")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["approval_policy.created", "approval_policy.edited", "approval_policy.deactivated"]


def test_a_policy_cannot_name_a_role_that_does_not_approve(client_of, world, admin_user):
    from foodflow.accounts.models import Role

    response = client_of(admin_user).post(
        reverse("sales:policy_create"), policy_data(approver_role=Role.objects.get(code="planner").pk)
    )

    assert response.status_code == 200 and not ApprovalPolicy.objects.filter(name="大额折扣").exists()


# --- navigation -----------------------------------------------------------------------------------


def test_the_menu_offers_each_page_to_who_may_open_it(world, admin_user):
    def visible(user):
        return [link.url_name for link in LINKS if link.allowed(user)]

    assert visible(world.rep) == ["sales:inquiries", "sales:quotations", "sales:orders"]
    assert "sales:approvals" in visible(world.manager) and "sales:policies" not in visible(world.manager)
    assert "sales:policies" in visible(admin_user)
    assert all(link.description for link in LINKS)


# --- in a browser: the line formset's "add line" and the live price -------------------------------


@pytest.mark.browser
def test_in_a_browser_lines_are_added_and_priced_as_they_are_typed(transactional_db, world, browser, live_server):
    from playwright.sync_api import expect

    from conftest import PASSWORD

    server = live_server.url
    page = browser.new_page()
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", world.rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")

    page.goto(f"{server}{reverse('sales:quotation_create')}")
    page.select_option("select[name=customer]", str(world.customer.pk))
    page.select_option("select[name=lines-0-product]", str(world.milk.pk))
    page.fill("input[name=lines-0-quantity]", "10")
    page.fill("input[name=lines-0-discount_percent]", "20")
    page.locator("input[name=lines-0-discount_percent]").dispatch_event("change")
    preview = page.locator("[data-testid=line-row]").first.locator("[data-testid=price-preview]")
    expect(preview).to_contain_text("¥480.00")  # 10 × 60.00 × 0.80, below the 50.00 floor
    expect(preview.locator("[data-testid=below-floor]")).to_have_count(1)

    page.click("[data-testid=add-line]")
    assert page.locator("[data-testid=line-row]").count() == 2
    assert page.input_value("input[name=lines-TOTAL_FORMS]") == "2"
    page.select_option("select[name=lines-1-product]", str(world.yoghurt.pk))
    page.fill("input[name=lines-1-quantity]", "4")
    page.locator("input[name=lines-1-quantity]").dispatch_event("change")
    expect(page.locator("[data-testid=line-row]").nth(1).locator("[data-testid=price-preview]")).to_contain_text(
        "¥146.00"
    )
    page.click("[data-testid=save-document]")
    page.wait_for_selector("[data-testid=quotation-state]")

    quotation = Quotation.objects.get()
    assert [(line.product_id, line.quantity) for line in quotation.lines.order_by("position")] == [
        (world.milk.pk, Decimal("10.000")),
        (world.yoghurt.pk, Decimal("4.000")),
    ]
    assert quotation.total == Decimal("626.00")  # 480.00 + 4 × 36.50
