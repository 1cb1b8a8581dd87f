"""One way to answer a list as an Excel file: the columns a page declares, cells that a
spreadsheet cannot run (formula injection), and an audit entry saying who exported what."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.workbook.child import INVALID_TITLE_REGEX

from .audit import audit_record
from .views import client_ip

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Column = tuple[Any, Callable[[Any], Any]]  # (header, value of one row)


def export_cell(value: Any) -> Any:
    """Numbers and dates as they are; text without control characters, and as plain text
    (a leading apostrophe) when a spreadsheet would read it as a formula."""
    if value is None or isinstance(value, int | float) or hasattr(value, "quantize") or hasattr(value, "isoformat"):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return f"'{text}" if text.startswith(FORMULA_START) else text


def sheet_title(title: Any) -> str:
    """A title Excel takes for a sheet (maybe empty): at most 31 characters, none of
    ``\\ / ? * [ ] :``, no apostrophe at either end. A title may come from a user's text (a price
    list's code, such as 2024/Q1): openpyxl refuses the rest with an error."""
    return INVALID_TITLE_REGEX.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", str(title)))[:31].strip(" '")


def xlsx_response(
    request,
    *,
    title: str,
    columns: Iterable[Column],
    rows: Iterable[Any],
    filename: str,
    audit_action: str,
    filters: dict,
) -> HttpResponse:
    """The rows as one sheet, with a frozen header; the export is audited with its filters.
    The workbook is written as the rows come (openpyxl's write-only mode): 100,000 rows take a
    tenth of the memory of a workbook held whole."""
    columns = list(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title) or None)  # None: openpyxl names it
    sheet.freeze_panes = "A2"  # (before the first row: a write-only sheet writes its view first)
    sheet.append([str(label) for label, _value in columns])
    count = 0
    for row in rows:
        sheet.append([export_cell(value(row)) for _label, value in columns])
        count += 1
    audit_record(
        action=audit_action,
        actor=request.user,
        changes={"count": count, "filters": filters},
        ip_address=client_ip(request),
    )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


EXPORT_ROW_LIMIT = 100_000


def export_query(request) -> str:
    """The page's query string for its export link: the filters and the sort, not the page."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def capped_xlsx_response(request, *, title, rows, filters: dict, **options) -> HttpResponse:
    """``xlsx_response`` of at most ``EXPORT_ROW_LIMIT`` rows; a queryset is read in chunks, never
    loaded whole. When the list is longer, the sheet's title and the audit entry say so."""
    found = rows.count() if isinstance(rows, QuerySet) else len(rows)
    if found > EXPORT_ROW_LIMIT:
        title = _("%(title)s (first %(limit)s rows)") % {"title": title, "limit": EXPORT_ROW_LIMIT}
        filters = {**filters, "row_limit": EXPORT_ROW_LIMIT, "rows_found": found}
        rows = rows[:EXPORT_ROW_LIMIT]
    if isinstance(rows, QuerySet):
        rows = rows.iterator(chunk_size=1000)
    return xlsx_response(request, title=title, rows=rows, filters=filters, **options)
