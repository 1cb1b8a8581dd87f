"""Complaint rates: complaints received in a range per 1,000 units delivered in it, per
product and per lot. The selector, the page, its Excel export and the API agree with the rates
computed here from the delivery lines and complaints; a planned delivery counts for nothing."""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.core.models import AuditEntry
from foodflow.sales.models import DeliveryLine
from foodflow.service.models import Complaint
from foodflow.service.selectors_surveys import complaint_rates

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaints(sworld, m_old_shipped):
    """Two complaints naming lot M-OLD, one M-NEW, one about the yoghurt (no lot), one about
    the milk (no lot), and one naming M-OLD received 200 days ago."""
    old, new = sworld.lot("M-OLD"), sworld.lot("M-NEW")
    return [
        sworld.complaint(lot=old),
        sworld.complaint(lot=old, category="packaging"),
        sworld.complaint(lot=new),
        sworld.complaint(product=sworld.yoghurt),
        sworld.complaint(product=sworld.milk),
        sworld.complaint(lot=old, received_at=timezone.now() - timedelta(days=200)),
    ]


def in_range(moment, date_from, date_to) -> bool:
    return moment is not None and date_from <= timezone.localtime(moment).date() <= date_to


def expected(by: str, date_from, date_to) -> dict:
    """key → (complaints, delivered, rate per 1,000 rounded half up to 0.01 or None)."""
    delivered: dict = {}
    for line in DeliveryLine.objects.select_related("delivery", "order_line"):
        if line.delivery.state not in ("shipped", "received") or not in_range(
            line.delivery.shipped_at, date_from, date_to
        ):
            continue
        key = line.order_line.product_id if by == "product" else line.lot_id
        if key is not None:
            delivered[key] = delivered.get(key, Decimal(0)) + line.quantity
    counted: dict = {}
    for complaint in Complaint.objects.all():
        key = complaint.product_id if by == "product" else complaint.lot_id
        if key is not None and in_range(complaint.received_at, date_from, date_to):
            counted[key] = counted.get(key, 0) + 1
    figures = {}
    for key in set(delivered) | set(counted):
        quantity = delivered.get(key, Decimal(0))
        n = counted.get(key, 0)
        rate = (Decimal(n) * 1000 / quantity).quantize(Decimal("0.01"), ROUND_HALF_UP) if quantity else None
        figures[key] = (n, quantity, rate)
    return figures


def as_figures(rows) -> dict:
    return {row.key: (row.complaints, row.delivered, row.rate) for row in rows}


# --- the selector --------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["product", "lot"])
def test_rates_match_the_delivery_lines_and_complaints(sworld, complaints, by):
    today = timezone.localdate()
    date_from = today - timedelta(days=30)

    rows = complaint_rates(sworld.service, by=by, date_from=date_from, date_to=today)

    assert as_figures(rows) == expected(by, date_from, today)


def test_the_rates_of_the_world(sworld, complaints, m_old_shipped):
    today = timezone.localdate()

    by_product = as_figures(complaint_rates(sworld.service, by="product", date_from=today, date_to=today))
    by_lot = as_figures(complaint_rates(sworld.service, by="lot", date_from=today, date_to=today))

    # milk shipped: 30 to the east, 4 + 6 + 6 to the south, 15 to picky; the planned 10 never left
    assert by_product[sworld.milk.pk] == (4, Decimal("61"), Decimal("65.57"))
    assert by_product[sworld.yoghurt.pk] == (1, Decimal("12"), Decimal("83.33"))
    assert by_lot[sworld.lot("M-OLD").pk] == (2, Decimal("46"), Decimal("43.48"))
    assert by_lot[sworld.lot("M-NEW").pk] == (1, Decimal("15"), Decimal("66.67"))
    assert by_lot[sworld.lot("Y-1").pk] == (0, Decimal("12"), Decimal("0.00"))


def test_a_complaint_without_deliveries_in_the_range_has_no_rate(sworld, complaints):
    today = timezone.localdate()

    rows = complaint_rates(
        sworld.service, by="lot", date_from=today - timedelta(days=250), date_to=today - timedelta(days=150)
    )

    assert as_figures(rows) == {sworld.lot("M-OLD").pk: (1, Decimal(0), None)}


def test_highest_rate_first_and_rows_without_a_rate_last(sworld, complaints):
    today = timezone.localdate()

    rows = complaint_rates(sworld.service, by="lot", date_from=today - timedelta(days=250), date_to=today)

    rates = [row.rate for row in rows]
    assert rates == sorted(rates, reverse=True)
    assert all(rate is not None for rate in rates)  # M-OLD was delivered today: it has a rate


def test_a_rep_counts_only_the_deliveries_of_their_customers(sworld, complaints, m_old_shipped):
    today = timezone.localdate()

    rows = as_figures(complaint_rates(sworld.other_rep, by="product", date_from=today, date_to=today))

    # the southern customer's: 4 + 6 + 6 milk, 7 yoghurt; complaints handled by the desk are not theirs
    assert rows == {
        sworld.milk.pk: (0, Decimal("16"), Decimal("0.00")),
        sworld.yoghurt.pk: (0, Decimal("7"), Decimal("0.00")),
    }


# --- the page, the export and the API ------------------------------------------------------------------


def page_figures(html: str) -> dict:
    figures = {}
    for match in re.finditer(r'<tr data-testid="rate-row" ([^>]*)>', html):
        attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1)))
        figures[int(attributes["key"])] = (
            int(attributes["complaints"]),
            Decimal(attributes["delivered"]),
            Decimal(attributes["rate"]) if attributes["rate"] else None,
        )
    return figures


@pytest.mark.parametrize("by", ["product", "lot"])
def test_the_page_export_and_api_show_the_same_rates(sworld, complaints, client_of, by):
    client = client_of(sworld.qa)
    today = timezone.localdate()
    date_from = today - timedelta(days=30)
    figures = expected(by, date_from, today)
    params = {"by": by, "date_from": date_from.isoformat(), "date_to": today.isoformat()}

    page = client.get(reverse("service:complaint_rates"), params)
    export = client.get(reverse("service:complaint_rates_export"), params)
    api = client.get("/api/v1/complaint-rates/", {"by": by, "from": date_from.isoformat(), "to": today.isoformat()})

    assert page.status_code == 200 and page_figures(page.content.decode()) == figures
    assert 'data-testid="rates-definitions"' in page.content.decode()
    sheet = load_workbook(BytesIO(export.content)).active
    header, *rows = list(sheet.values)
    count, quantity, rate = len(header) - 3, len(header) - 2, len(header) - 1
    assert sorted((r[count], Decimal(str(r[quantity])), r[rate]) for r in rows) == sorted(
        (n, q, float(v) if v is not None else None) for n, q, v in figures.values()
    )
    entry = AuditEntry.objects.get(action="service.complaint_rates_exported")
    assert entry.actor_id == sworld.qa.pk and entry.changes["filters"]["by"] == by
    assert api.status_code == 200, api.content[:300]
    assert {
        row["key"]: (row["complaints"], Decimal(row["delivered"]), Decimal(row["rate"]) if row["rate"] else None)
        for row in api.json()["results"]
    } == figures


def test_the_lot_row_links_to_the_ledger_filtered_by_its_lot(sworld, complaints, client_of):
    client = client_of(sworld.service)
    html = client.get(reverse("service:complaint_rates"), {"by": "lot"}).content.decode()
    lot = sworld.lot("M-OLD")

    link = f"{reverse('service:complaints')}?product={lot.product_id}&amp;lot={lot.lot_number}"
    assert link in html
    ledger = client.get(reverse("service:complaints"), {"product": lot.product_id, "lot": lot.lot_number})
    numbers = set(re.findall(r'data-testid="complaint-row" data-number="([^"]+)"', ledger.content.decode()))
    assert numbers == {c.number for c in complaints if c.lot_id == lot.pk}
