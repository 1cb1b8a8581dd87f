"""Pages of the sales figures: the analysis page (totals, trend, one dimension's table, drill-down
to the documents, Excel) and the documents behind a figure. Read only; every request is narrowed
to the viewer's data scope by ``query.slice_from``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import ValidationFailed
from foodflow.core.exports import xlsx_response
from foodflow.core.views import client_ip, require

from . import charts, figures
from .figures import DEFINITIONS, DIMENSIONS, GRAINS, LINE_DIMENSIONS
from .permissions import can_view_sales, scope_reps
from .query import default_range, slice_from

PER_PAGE = 50


def _request_slice(request):
    """(slice, dimension, grain, errors): a bad query shows its errors over the default figures."""
    try:
        return (*slice_from(request.GET, request.user), {})
    except ValidationFailed as error:
        start, end = default_range()
        fallback, dimension, grain = slice_from({"date_from": str(start), "date_to": str(end)}, request.user)
        return fallback, dimension, grain, error.fields


def _row_links(slice_, dimension, grain, rows) -> None:
    for row in rows:
        narrowed = figures.drill(slice_, dimension, row.key, grain=grain) if row.key not in (None, "") else None
        row.extra["drill"] = urlencode(narrowed.params()) if narrowed and row.lines else ""


@require(can_view_sales)
def sales_view(request):
    slice_, dimension, grain, errors = _request_slice(request)
    total = figures.totals(slice_)
    year_ago = figures.totals(slice_.shifted(months=12))
    # whole periods by period: the rows carry their growth on the period before and a year earlier
    growth = (
        dimension == "period"
        and grain in ("month", "quarter", "year")
        and slice_.whole_months
        and slice_.date_from == figures.period_start(slice_.date_from, grain)
    )
    rows = figures.trend(slice_, grain=grain) if growth else figures.revenue(slice_, dimension, grain=grain)
    whole = sum(row.amount_cents for row in rows)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for row in page:
        row.extra["share_pct"] = round(row.amount_cents * 100 / whole, 1) if whole else None
    _row_links(slice_, dimension, grain, page)
    if dimension == "period" and growth:
        chart = charts.trend_chart(rows)
    elif dimension == "period":
        chart = charts.series_chart([row.label for row in rows], [(_("Revenue"), "bar", [row.amount for row in rows])])
    else:
        chart = charts.bars_chart(rows[:20], title=DIMENSIONS[dimension])
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "analytics/sales.html",
        {
            "slice": slice_,
            "dimension": dimension,
            "grain": grain,
            "errors": errors,
            "total": total,
            "yoy_pct": figures.growth(total, year_ago) if year_ago.lines else None,
            "page": page,
            "counts": dimension not in LINE_DIMENSIONS and not (slice_.category or slice_.product),
            "growth": growth,
            "chart": chart,
            "dimensions": DIMENSIONS,
            "grains": GRAINS,
            "definitions": DEFINITIONS,
            "export_query": params.urlencode(),
            "filters": _filter_labels(slice_),
            "choices": _choices(),
        },
    )


def _choices() -> dict:
    """The options of the filter selects: regions, channels, tiers and product lines."""
    from foodflow.accounts.models import OrgUnit
    from foodflow.catalog.models import Category
    from foodflow.core.vocab import Channel, Tier

    lines = list(Category.objects.filter(parent__isnull=True).order_by("name").values_list("pk", flat=True))
    names = figures.labels("category", lines)  # one query for every product line, not one each
    return {
        "region": [(str(pk), name) for pk, name in OrgUnit.objects.filter(kind="region").values_list("pk", "name")],
        "channel": [(value, str(label)) for value, label in Channel.choices],
        "tier": [(value, str(label)) for value, label in Tier.choices],
        "category": [(str(pk), str(names.get(pk, ""))) for pk in lines],
    }


def _filter_labels(slice_) -> list[tuple[str, str, str]]:
    """The filters in force as (parameter, what, value label), each removable on the page."""
    found = []
    for name, dimension in (
        ("rep", "rep"),
        ("team", "team"),
        ("region", "region"),
        ("channel", "channel"),
        ("tier", "tier"),
        ("category", "category"),
        ("product", "product"),
        ("customer", "customer"),
    ):
        value = getattr(slice_, name)
        if value not in (None, ""):
            label = figures.labels(dimension, [value]).get(value, str(value))
            found.append((name, str(DIMENSIONS[dimension]), label))
    return found


def _export_columns(counts: bool):
    columns = [
        (_("Key"), lambda row: row.key),
        (_("Name"), lambda row: row.label),
        (_("Revenue (VAT incl.)"), lambda row: row.amount),
        (_("VAT"), lambda row: row.tax),
        (_("Revenue without VAT"), lambda row: row.net),
        (_("Cost"), lambda row: row.cost),
        (_("Gross margin"), lambda row: row.margin),
        (_("Margin rate (%)"), lambda row: row.margin_rate),
        (_("Quantity"), lambda row: row.quantity),
        (_("Order lines"), lambda row: row.lines),
    ]
    if counts:
        columns += [(_("Orders"), lambda row: row.orders), (_("Customers"), lambda row: row.customers)]
    return columns


@require(can_view_sales)
def sales_export_view(request):
    slice_, dimension, grain, _errors = _request_slice(request)
    rows = figures.revenue(slice_, dimension, grain=grain)
    counts = dimension not in LINE_DIMENSIONS and not (slice_.category or slice_.product)
    return xlsx_response(
        request,
        title=_("Sales by %(dimension)s") % {"dimension": DIMENSIONS[dimension]},
        columns=_export_columns(counts),
        rows=rows,
        filename=f"sales-{dimension}",
        audit_action="analytics.sales_exported",
        filters={"by": dimension, "grain": grain, **slice_.params()},
    )


@require(can_view_sales)
def documents_view(request):
    slice_, _dimension, _grain, errors = _request_slice(request)
    lines = bool(slice_.category or slice_.product)
    return render(
        request,
        "analytics/sales_documents.html",
        {
            "slice": slice_,
            "errors": errors,
            "lines": lines,
            "total": figures.totals(slice_),
            "page": Paginator(figures.documents(slice_), PER_PAGE).get_page(request.GET.get("page")),
            "filters": _filter_labels(slice_),
            "back": urlencode(slice_.params()),
        },
    )


def _report_month(request):
    """The month asked for (YYYY-MM), or last month; a bad value is last month with an error."""
    from datetime import date

    from .report import last_month

    raw = (request.GET.get("month") or "").strip()
    if not raw:
        return last_month(), None
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1), None
    except ValueError:
        return last_month(), _("Enter a month as YYYY-MM.")


@require(can_view_sales)
def monthly_report_view(request):
    from django.http import HttpResponse

    from . import report

    month, error = _report_month(request)
    kind = request.GET.get("format")
    if kind in ("xlsx", "pdf") and not error:
        built = report.report_build(month, scope_reps(request.user))
        if kind == "xlsx":
            content, content_type = report.report_workbook(built), report.report_workbook_type()
        else:
            content, content_type = report.report_pdf(built), "application/pdf"
        audit_record(
            action="analytics.monthly_report_downloaded",
            actor=request.user,
            changes={"month": built.label, "format": kind},
            ip_address=client_ip(request),
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{report.report_filename(built, kind)}"'
        return response
    return render(request, "analytics/monthly_report.html", {"month": month, "error": error})


urlpatterns = [
    path("report/", monthly_report_view, name="monthly_report"),
    path("sales/", sales_view, name="sales"),
    path("sales/export/", sales_export_view, name="sales_export"),
    path("sales/documents/", documents_view, name="sales_documents"),
]
