"""The monthly report: one month's figures as an Excel workbook and a PDF, e-mailed on the 1st to
the people whose role receives it, and downloadable from the analysis area for any month.

The job is idempotent: the audit log records each month's mailing, and a second run for the same
month sends nothing. A mail server that refuses leaves the month unrecorded (the next run tries
again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from foodflow.core.audit import audit_record
from foodflow.core.exports import export_cell
from foodflow.core.models import AuditEntry

from . import figures
from .figures import Slice, add_months, month_range
from .permissions import RECEIVE_REPORT

AUDIT_ACTION = "analytics.monthly_report_sent"


@dataclass
class Section:
    code: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


@dataclass
class Report:
    month: date
    reps: frozenset[int] | None
    total: figures.Row
    previous: figures.Row
    year_ago: figures.Row
    sections: list[Section]

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"


def _figure_section(code: str, title: str, rows: list[figures.Row]) -> Section:
    columns = [_("Name"), _("Revenue"), _("Gross margin"), _("Margin rate (%)"), _("Quantity"), _("Order lines")]
    return Section(
        code,
        title,
        columns,
        [[row.label, row.amount, row.margin, row.margin_rate, row.quantity, row.lines] for row in rows],
    )


def report_build(month: date, reps: frozenset[int] | None = None) -> Report:
    """The figures of ``month`` (any day in it) for ``reps`` (None: the whole company)."""
    start, end = month_range(month)
    slice_ = Slice(start, end, reps=reps)
    sections = [
        _figure_section("regions", _("By region"), figures.revenue(slice_, "region")),
        _figure_section("reps", _("By rep"), figures.revenue(slice_, "rep")),
        _figure_section("product_lines", _("By product line"), figures.revenue(slice_, "top_category")),
        _figure_section("channels", _("By channel"), figures.revenue(slice_, "channel")),
        _figure_section("customers", _("Top 20 customers"), figures.revenue(slice_, "customer", limit=20)),
        _figure_section("products", _("Top 20 products"), figures.revenue(slice_, "product", limit=20)),
    ]
    daily = figures.revenue(slice_, "period", grain="day")
    sections.append(
        Section(
            "days", _("Per day"), [_("Day"), _("Revenue"), _("Orders")], [[r.label, r.amount, r.orders] for r in daily]
        )
    )
    return Report(
        month=start,
        reps=reps,
        total=figures.totals(slice_),
        previous=figures.totals(slice_.shifted(months=1)),
        year_ago=figures.totals(slice_.shifted(months=12)),
        sections=sections,
    )


def _summary_rows(report: Report) -> list[list]:
    def line(title, row):
        return [title, row.amount, row.margin, row.margin_rate, row.orders, row.customers]

    return [
        line(_("This month"), report.total),
        line(_("The month before"), report.previous),
        line(_("The same month a year earlier"), report.year_ago),
    ]


def report_workbook(report: Report) -> bytes:
    """The report as an Excel workbook: a summary sheet, then one sheet per section."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([_("Monthly sales report"), report.label])
    sheet.append([])
    sheet.append(["", _("Revenue"), _("Gross margin"), _("Margin rate (%)"), _("Orders"), _("Customers")])
    for row in _summary_rows(report):
        sheet.append([export_cell(value) for value in row])
    for text in figures.DEFINITIONS:
        sheet.append([str(text)])
    for section in report.sections:
        part = book.create_sheet(section.title[:31])
        part.append(section.columns)
        for row in section.rows:
            part.append([export_cell(value) for value in row])
        part.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_pdf(report: Report) -> bytes:
    from foodflow.sales.pdf import pdf_render

    return pdf_render(
        "analytics/pdf/monthly_report.html",
        {
            "report": report,
            "summary": _summary_rows(report),
            "growth_month": figures.growth(report.total, report.previous),
            "growth_year": figures.growth(report.total, report.year_ago),
            "definitions": figures.DEFINITIONS,
        },
    )


def report_filename(report: Report, extension: str) -> str:
    return f"sales-report-{report.label}.{extension}"


def last_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return add_months(today.replace(day=1), -1)


def monthly_report_send(today: date | None = None) -> int:
    """E-mail last month's company report (Excel and PDF) to the users whose role receives it;
    returns the e-mails sent (0 when this month's report went out already)."""
    from foodflow.accounts.services import users_with_perm

    month = last_month(today)
    label = f"{month:%Y-%m}"
    if AuditEntry.objects.filter(action=AUDIT_ACTION, changes__month=label).exists():
        return 0
    recipients = [user.email for user in users_with_perm(RECEIVE_REPORT).order_by("pk") if user.email]
    if not recipients:
        return 0
    with translation.override("zh-hans"):
        report = report_build(month)
        workbook, document = report_workbook(report), report_pdf(report)
        subject = _("Monthly sales report %(month)s") % {"month": label}
        body = _(
            "The sales report of %(month)s is attached as Excel and PDF. Revenue: %(revenue)s, orders: %(orders)s."
        ) % {"month": label, "revenue": report.total.amount, "orders": report.total.orders or 0}
    sent = 0
    for address in recipients:
        message = EmailMessage(subject=subject, body=body, to=[address])
        message.attach(report_filename(report, "xlsx"), workbook, report_workbook_type())
        message.attach(report_filename(report, "pdf"), document, "application/pdf")
        sent += message.send()
    audit_record(action=AUDIT_ACTION, changes={"month": label, "recipients": sent})
    return sent


def report_workbook_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
