"""The monthly report: its figures (Excel and PDF) equal the analysis figures of the month, the job
mails it once per month to the people whose role receives it, and a download keeps to the scope."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.analytics import report
from foodflow.analytics.tests.test_rollup import place
from foodflow.core.models import AuditEntry
from foodflow.sales.models import SalesOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_month_orders(world):
    """Two orders dated in last month, one this month (not in the report)."""
    today = timezone.localdate()
    days_back = (today - report.last_month(today)).days - 3  # the 4th of last month
    orders = [
        place(world, [(world.milk, 10), (world.yoghurt, 2)], days_ago=days_back),
        place(world, [(world.milk, 5)], days_ago=days_back - 1, by=world.manager),
        place(world, [(world.milk, 1)], days_ago=0),
    ]
    return orders[:2]


def test_the_workbook_has_the_months_figures(world, last_month_orders):
    built = report.report_build(report.last_month())
    book = load_workbook(BytesIO(report.report_workbook(built)))
    summary = list(book.worksheets[0].iter_rows(values_only=True))
    assert Decimal(str(summary[3][1])) == sum(order.total for order in last_month_orders)
    regions = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert sum(Decimal(str(row[1])) for row in regions) == sum(order.total for order in last_month_orders)
    assert len(book.worksheets) == 1 + len(built.sections)


def test_the_job_mails_the_report_once_per_month(world, make_user, last_month_orders):
    receiver = make_user("director", unit="HQ", username="boss2", email="boss2@example.com")
    make_user("rep", username="no_report", email="rep@example.com")
    call_command("run_scheduled", "analytics-monthly-report")
    call_command("run_scheduled", "analytics-monthly-report")  # the job may run twice: one mailing
    assert [message.to for message in mail.outbox] == [[receiver.email]]
    names = [name for name, _content, _type in mail.outbox[0].attachments]
    label = f"{report.last_month():%Y-%m}"
    assert names == [f"sales-report-{label}.xlsx", f"sales-report-{label}.pdf"]
    pdf = mail.outbox[0].attachments[1][1]
    assert pdf.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action=report.AUDIT_ACTION).count() == 1


def test_a_download_keeps_to_the_readers_scope(world, client_of, last_month_orders):
    client = client_of(world.rep)
    month = f"{report.last_month():%Y-%m}"
    response = client.get(f"/analytics/report/?month={month}&format=xlsx")
    assert response.status_code == 200
    summary = list(load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    mine = SalesOrder.objects.get(pk=last_month_orders[0].pk).total
    assert Decimal(str(summary[3][1])) == mine
    assert client.get(f"/analytics/report/?month={month}&format=pdf")["Content-Type"] == "application/pdf"
    page = client.get("/analytics/report/?month=2026-13")
    assert page.status_code == 200 and b'data-testid="report-error"' in page.content
    assert AuditEntry.objects.filter(action="analytics.monthly_report_downloaded").count() == 2


def test_roles_without_the_figures_cannot_download(make_user, client_of):
    assert client_of(make_user("planner", unit="HQ")).get("/analytics/report/?format=xlsx").status_code == 403


def test_the_last_month_of_january_is_december(world):
    from datetime import date

    assert report.last_month(date(2027, 1, 15)) == date(2026, 12, 1)
    assert report.last_month(date(2026, 3, 31)) == date(2026, 2, 1)
