"""The Excel exports of the order-to-cash lists: each answers the list as the user filtered and
sorted it (every page, in their scope), with headers in the user's language (Chinese by
default), values as numbers, dates and labels, formula-looking text made harmless, and an
audit entry naming the filters; a user who may not see the list gets a 403."""

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales import selectors_docs, selectors_ops, views_docs, views_ops
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.models import Invoice, SalesOrder
from foodflow.sales.receivables import payment_record
from foodflow.sales.review import order_review_decide
from foodflow.sales.selectors import ar_aging
from foodflow.sales.services import LineInput, order_create, order_submit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FORMULA = '=HYPERLINK("http://example.invalid","点我")'
ORDER_ROW = re.compile(r'data-testid="order-row" data-number="([^"]+)"')
RECEIVABLE_ROW = re.compile(r'data-testid="receivable-row" data-number="([^"]+)"')


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def headers_in(language: str, columns) -> list[str]:
    with translation.override(language):
        return [str(label) for label, _value in columns]


# --- given ----------------------------------------------------------------------------------------


@pytest.fixture
def south_customer(world):
    """A customer of the other region, owned by the southern rep: outside an eastern team's scope."""
    customer = customer_create(
        by=None,
        name="广州好又多",
        channel="ka",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=world.other_rep,
        status="active",
    )
    return customer_set_credit(by=None, customer=customer, credit_limit=Decimal("500000"), payment_terms_days=30)


def confirmed_order(world, *, customer=None, by=None, quantity="10", **fields) -> SalesOrder:
    order = order_create(
        by=by or world.rep, customer=customer or world.customer, lines=[LineInput(world.milk, quantity)], **fields
    )
    order = order_submit(by=by or world.rep, order=order)
    assert order.state == "confirmed"
    return order


def shipped_order(world, *, customer=None, by=None, quantity="10") -> tuple[SalesOrder, Invoice]:
    """A reserved order with everything shipped on one note: the receivable is raised."""
    order = order_review_decide(
        by=world.planner, order=confirmed_order(world, customer=customer, by=by, quantity=quantity), decision="reserve"
    )
    delivery = delivery_ship(
        by=world.planner, delivery=delivery_create(by=world.planner, order=order, planned_date=TODAY)
    )
    return order, Invoice.objects.get(delivery=delivery)


# --- orders ---------------------------------------------------------------------------------------


def test_the_order_export_gives_the_filtered_orders_in_scope_with_chinese_headers(world, south_customer, client_of):
    wanted = confirmed_order(world, customer_reference=FORMULA, quantity="10")
    order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "3")])  # a draft
    confirmed_order(world, customer=south_customer, by=world.other_rep)  # another region's rep
    client = client_of(world.manager)

    response = client.get(reverse("sales:orders_export"), {"state": "confirmed", "sort": "-total"})

    rows = sheet_rows(response)
    assert load_workbook(BytesIO(response.content)).active.freeze_panes == "A2"  # the header stays in view
    columns = views_docs.ORDER_EXPORT_COLUMNS
    assert list(rows[0]) == headers_in("zh-hans", columns)
    assert list(rows[0]) != headers_in("en", columns)  # the default language, not the source text
    # exactly the rows of the list page with the same filter (its every page), in its order
    page = client.get(reverse("sales:orders"), {"state": "confirmed", "sort": "-total"}).content.decode()
    assert [row[0] for row in rows[1:]] == ORDER_ROW.findall(page) == [wanted.number]
    by_header = dict(zip(headers_in("en", columns), rows[1], strict=True))
    assert by_header["Total (tax incl.)"] == wanted.total == Decimal("600.00")
    assert by_header["Order date"].date() == wanted.ordered_on
    assert by_header["Owner"] == world.rep.display_name
    with translation.override("zh-hans"):
        assert by_header["State"] == str(wanted.get_state_display())
    assert by_header["Customer's PO number"] == "'" + FORMULA  # text, never run as a formula
    entry = AuditEntry.objects.get(action="sales.orders_exported")
    assert entry.actor == world.manager
    assert entry.changes["count"] == 1
    assert entry.changes["filters"] == {"state": "confirmed", "sort": "-total"}


def test_a_rep_exports_only_their_own_orders_and_a_user_without_sales_gets_403(
    world, south_customer, client_of, make_user
):
    own = confirmed_order(world)
    confirmed_order(world, customer=south_customer, by=world.other_rep)

    rows = sheet_rows(client_of(world.rep).get(reverse("sales:orders_export")))
    refused = client_of(make_user("legal", username="legal")).get(reverse("sales:orders_export"))

    assert [row[0] for row in rows[1:]] == [own.number]
    expected = selectors_docs.orders_search(world.rep, ordering=["-ordered_on", "-id"])
    assert [row[0] for row in rows[1:]] == [order.number for order in expected]
    assert refused.status_code == 403
    assert AuditEntry.objects.filter(action="sales.orders_exported").count() == 1


def test_the_list_pages_link_their_export_with_the_filters_but_not_the_page(world, client_of):
    confirmed_order(world)
    client = client_of(world.manager)

    page = client.get(reverse("sales:orders"), {"state": "confirmed", "page": "1"}).content.decode()

    link = re.search(r'href="([^"]+)" data-testid="export-orders"', page)
    assert link and link.group(1).startswith(reverse("sales:orders_export") + "?")
    assert "state=confirmed" in link.group(1) and "page=" not in link.group(1)
    for name, testid in [("sales:inquiries", "export-inquiries"), ("sales:quotations", "export-quotations")]:
        assert f'data-testid="{testid}"' in client.get(reverse(name)).content.decode()


def test_the_inquiry_and_quotation_exports_answer_their_lists(world, client_of):
    from foodflow.sales.services import InquiryLineInput, inquiry_create, quotation_create

    inquiry = inquiry_create(
        by=world.rep, customer=world.customer, channel="phone", lines=[InquiryLineInput("5", product=world.milk)]
    )
    quotation = quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.yoghurt, "4")])
    client = client_of(world.rep)

    inquiries = sheet_rows(client.get(reverse("sales:inquiries_export"), {"q": inquiry.number}))
    quotations = sheet_rows(client.get(reverse("sales:quotations_export"), {"state": "draft"}))

    assert [row[0] for row in inquiries[1:]] == [inquiry.number]
    assert inquiries[0] == tuple(headers_in("zh-hans", views_docs.INQUIRY_EXPORT_COLUMNS))
    assert [(row[0], row[1]) for row in quotations[1:]] == [(quotation.number, 1)]
    assert quotations[1][7] == quotation.total == Decimal("146.00")


# --- order review and deliveries ------------------------------------------------------------------


def test_the_review_queue_export_follows_the_search_and_is_refused_to_a_rep(world, client_of):
    first = confirmed_order(world, quantity="10")
    confirmed_order(world, quantity="20")
    planner = client_of(world.planner)

    rows = sheet_rows(planner.get(reverse("sales:review_queue_export"), {"q": first.number}))
    refused = client_of(world.rep).get(reverse("sales:review_queue_export"))

    assert rows[0] == tuple(headers_in("zh-hans", views_ops.REVIEW_EXPORT_COLUMNS))
    assert [row[0] for row in rows[1:]] == [first.number]
    assert AuditEntry.objects.get(action="sales.review_queue_exported").changes["filters"]["q"] == first.number
    assert refused.status_code == 403


def test_the_delivery_exports_give_the_orders_ready_and_the_notes_of_the_week(world, client_of):
    ready = order_review_decide(by=world.planner, order=confirmed_order(world), decision="reserve")
    shipped, _invoice = shipped_order(world, quantity="5")
    planner = client_of(world.planner)

    ready_rows = sheet_rows(planner.get(reverse("sales:deliveries_ready_export")))
    week_rows = sheet_rows(
        planner.get(reverse("sales:deliveries_week_export"), {"week": TODAY.isoformat(), "state": "shipped"})
    )

    assert [row[0] for row in ready_rows[1:]] == [ready.number]
    assert ready_rows[1][-1] == 0  # planned notes
    assert [row[0] for row in week_rows[1:]] == [shipped.deliveries.get().number]
    by_header = dict(zip(headers_in("en", views_ops.DELIVERY_NOTE_EXPORT_COLUMNS), week_rows[1], strict=True))
    assert by_header["Amount (tax incl.)"] == Decimal("300.00")
    assert by_header["Delivery date"].date() == TODAY
    filters = AuditEntry.objects.get(action="sales.deliveries_week_exported").changes["filters"]
    assert filters["state"] == "shipped" and date.fromisoformat(filters["start"]) <= TODAY
    assert client_of(world.rep).get(reverse("sales:deliveries_week_export")).status_code == 403


# --- receivables, aging, payments, reconciliation -------------------------------------------------


def test_the_receivable_export_is_the_filtered_list_of_the_users_scope(world, south_customer, client_of):
    _order, invoice = shipped_order(world, quantity="10")
    _south_order, south_invoice = shipped_order(world, customer=south_customer, by=world.other_rep, quantity="2")
    finance, rep = client_of(world.finance), client_of(world.rep)

    everything = sheet_rows(finance.get(reverse("sales:receivables_export")))
    filtered = sheet_rows(finance.get(reverse("sales:receivables_export"), {"customer": world.customer.pk}))
    of_the_rep = sheet_rows(rep.get(reverse("sales:receivables_export")))

    assert {row[0] for row in everything[1:]} == {invoice.number, south_invoice.number}
    page = finance.get(reverse("sales:receivables"), {"customer": world.customer.pk}).content.decode()
    assert [row[0] for row in filtered[1:]] == RECEIVABLE_ROW.findall(page) == [invoice.number]
    by_header = dict(zip(headers_in("en", views_ops.RECEIVABLE_EXPORT_COLUMNS), filtered[1], strict=True))
    assert by_header["Amount (tax incl.)"] == by_header["Open"] == Decimal("600.00")
    assert by_header["Due date"].date() == invoice.due_date
    assert [row[0] for row in of_the_rep[1:]] == [invoice.number]  # not the southern rep's
    audit = AuditEntry.objects.filter(action="sales.receivables_exported").order_by("pk")
    assert audit[1].changes["filters"]["customer"] == str(world.customer.pk)


def test_the_aging_export_has_every_customer_and_the_total_row(world, south_customer, client_of):
    shipped_order(world, quantity="10")
    shipped_order(world, customer=south_customer, by=world.other_rep, quantity="2")

    rows = sheet_rows(client_of(world.finance).get(reverse("sales:aging_export")))

    expected, total = ar_aging(invoices=selectors_ops.aging_invoices(world.finance))
    assert [row[0] for row in rows[1:-1]] == [row.customer_name for row in expected]
    assert rows[-1][0] == str(total.customer_name)
    assert rows[-1][-2] == total.total == Decimal("720.00")  # 600 + 120, all in 0–30 days
    assert rows[1][1] == Decimal("600.00")


def test_the_payment_export_follows_the_method_filter(world, client_of):
    payment_record(by=world.finance, customer=world.customer, amount="100", method="transfer", reference=FORMULA)
    payment_record(by=world.finance, customer=world.customer, amount="50", method="cash")

    rows = sheet_rows(client_of(world.finance).get(reverse("sales:payments_export"), {"method": "transfer"}))

    assert len(rows) == 2
    by_header = dict(zip(headers_in("en", views_ops.PAYMENT_EXPORT_COLUMNS), rows[1], strict=True))
    assert by_header["Amount"] == by_header["Not yet allocated"] == Decimal("100.00")
    assert by_header["Bank reference"] == "'" + FORMULA
    assert AuditEntry.objects.get(action="sales.payments_exported").changes["filters"]["method"] == "transfer"


def test_the_reconciliation_export_gives_the_orders_that_disagree(world, client_of):
    order, _invoice = shipped_order(world, quantity="10")
    confirmed = confirmed_order(world, quantity="1")  # ordered, nothing delivered

    rows = sheet_rows(client_of(world.finance).get(reverse("sales:reconciliation_export"), {"q": order.number}))
    refused = client_of(world.rep).get(reverse("sales:reconciliation_export"))

    expected = selectors_ops.reconciliation_rows(world.finance, q=order.number)
    assert [row[0] for row in rows[1:]] == [row.order.number for row in expected] == [order.number]
    assert confirmed.number not in {row[0] for row in rows}
    assert refused.status_code == 403


def test_an_export_reads_the_same_number_of_queries_whatever_its_length(world, client_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(world.finance)

    def queries_of_the_exports() -> int:
        with CaptureQueriesContext(connection) as captured:
            for name in ("sales:orders_export", "sales:receivables_export", "sales:reconciliation_export"):
                sheet_rows(client.get(reverse(name)))
        return len(captured)

    shipped_order(world, quantity="1")
    few = queries_of_the_exports()
    for _ in range(3):
        shipped_order(world, quantity="1")
    assert queries_of_the_exports() == few


def test_every_ops_list_page_offers_its_export(world, client_of):
    planner, finance = client_of(world.planner), client_of(world.finance)
    pages = [
        (planner, "sales:review_queue", ["export-review-queue"]),
        (planner, "sales:deliveries", ["export-ready", "export-delivery-notes"]),
        (finance, "sales:receivables", ["export-receivables"]),
        (finance, "sales:aging", ["export-aging"]),
        (finance, "sales:payments", ["export-payments"]),
        (finance, "sales:reconciliation", ["export-reconciliation"]),
    ]
    for client, name, testids in pages:
        page = client.get(reverse(name), {"q": "SO", "page": "1"}).content.decode()
        for testid in testids:
            link = re.search(rf'href="([^"]+)" data-testid="{testid}"', page)
            assert link, (name, testid)
            assert "page=" not in link.group(1), (name, testid)
