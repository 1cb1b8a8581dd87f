"""Pages of market research: competitors, intelligence entries, demand records, research
reports and the records gone stale; each list with its Excel export (the page's own search).

Views parse input and call one service or selector: every record is written by
``services.market_record_save`` (which also moves its stale date on), every upload goes through
``core.attachments.attachment_create`` (type judged by content)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from foodflow.core.attachments import DOCUMENTS, attachment_create, attachment_discard
from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response, export_query
from foodflow.core.forms import form_show_error
from foodflow.core.views import ordering_from, paginate, require, safe_next

from . import selectors, services
from .forms_market import (
    FORMS,
    CompetitorFilterForm,
    CompetitorForm,
    DemandFilterForm,
    IntelFilterForm,
    ReportFilterForm,
)
from .models import Competitor
from .permissions import can_manage_market, can_view_market

# --- helpers ------------------------------------------------------------------------------------


def _filters_used(values: dict, *, sort: str) -> dict:
    """The filters set, as the audit entry of an export records them (objects by id)."""
    used = {key: str(getattr(value, "pk", value)) for key, value in values.items() if value not in (None, "")}
    return {**used, "sort": sort}


@dataclass(frozen=True)
class MarketKind:
    """What the pages of one kind of market record have in common: its URLs and its words."""

    code: str  # the ``kind`` of market_record_save
    list_url: str
    create_url: str
    edit_url: str
    refresh_url: str
    label: Any
    new_title: Any
    edit_title: Any
    saved: Any
    refreshed: Any
    icon: str
    explanation: Any


KINDS = {
    "intel": MarketKind(
        "intel",
        "crm:intel_list",
        "crm:intel_create",
        "crm:intel_edit",
        "crm:intel_refresh",
        gettext_lazy("Competitor intelligence"),
        gettext_lazy("New intelligence entry"),
        gettext_lazy("Edit intelligence entry"),
        gettext_lazy("The intelligence entry %(record)s was saved."),
        gettext_lazy("%(record)s is confirmed as current: it is due again on %(date)s."),
        "ti-eye",
        gettext_lazy(
            "Record what a competitor sells, where and at what price. Name the source so that others can check it."
        ),
    ),
    "demand": MarketKind(
        "demand",
        "crm:demand_list",
        "crm:demand_create",
        "crm:demand_edit",
        "crm:demand_refresh",
        gettext_lazy("Demand records"),
        gettext_lazy("New demand record"),
        gettext_lazy("Edit demand record"),
        gettext_lazy("The demand record %(record)s was saved."),
        gettext_lazy("%(record)s is confirmed as current: it is due again on %(date)s."),
        "ti-clipboard-list",
        gettext_lazy("Record who needs what, how much and when, and how much the price matters to them."),
    ),
    "report": MarketKind(
        "report",
        "crm:report_list",
        "crm:report_create",
        "crm:report_edit",
        "crm:report_refresh",
        gettext_lazy("Research reports"),
        gettext_lazy("New research report"),
        gettext_lazy("Edit research report"),
        gettext_lazy("The research report %(record)s was saved."),
        gettext_lazy("%(record)s is confirmed as current: it is due again on %(date)s."),
        "ti-file-analytics",
        gettext_lazy("A summary of a market study over a period, with the full report attached as a PDF."),
    ),
}
STALE_EXPLANATION = gettext_lazy(
    "Saving a record, or confirming it with “Refresh”, starts its refresh period again. "
    "A record not refreshed within its period is stale and listed for its responsible person."
)


# --- sorting of the lists (the queries themselves are in selectors.py) ------------------------------

COMPETITOR_SORTS = {"name": ("name",), "intel": ("intel_count", "name"), "observed": ("last_observed", "name")}
INTEL_SORTS = {
    "observed_on": ("observed_on", "id"),
    "competitor": ("competitor__name", "product", "id"),
    "product": ("product", "id"),
    "price": ("observed_price", "id"),
    "region": ("region__path", "id"),
    "stale_on": ("stale_on", "id"),
}
DEMAND_SORTS = {
    "refreshed_on": ("refreshed_on", "id"),
    "who": ("who", "id"),
    "need": ("need", "id"),
    "stale_on": ("stale_on", "id"),
}
REPORT_SORTS = {
    "period_end": ("period_end", "id"),
    "title": ("title", "id"),
    "refreshed_on": ("refreshed_on", "id"),
    "stale_on": ("stale_on", "id"),
}


# --- competitors -----------------------------------------------------------------------------------


def _competitor_search(request):
    """The competitor list's filters and sort, read the same way by the page and by its export."""
    filters = CompetitorFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, COMPETITOR_SORTS, "name")
    competitors = selectors.competitors_search(
        query=(values["q"] or "").strip(), positioning=values["positioning"] or ""
    )
    return filters, values, sort, competitors.order_by(*ordering, "pk")


@require(can_view_market)
def competitor_list_view(request):
    can_manage = can_manage_market(request.user)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    form = CompetitorForm(request.POST or None) if can_manage else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            competitor = services.competitor_save(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The competitor %(name)s was saved.") % {"name": competitor.name})
            return redirect("crm:competitors")
    filters, values, sort, competitors = _competitor_search(request)
    return render(
        request,
        "crm/market/competitor_list.html",
        {
            "page": paginate(request, competitors),
            "filters": filters,
            "filtered": any(values.values()),
            "sort": sort,
            "form": form,
            "can_manage": can_manage,
            "export_query": export_query(request),
        },
    )


COMPETITOR_EXPORT_COLUMNS = (
    (gettext_lazy("Name"), lambda competitor: competitor.name),
    (gettext_lazy("Price positioning"), lambda competitor: competitor.get_positioning_display()),
    (gettext_lazy("Products"), lambda competitor: competitor.products),
    (gettext_lazy("Strengths"), lambda competitor: competitor.strengths),
    (gettext_lazy("Entries"), lambda competitor: competitor.intel_count),
    (gettext_lazy("Last observed"), lambda competitor: competitor.last_observed),
)


@require(can_view_market)
def competitor_export_view(request):
    _filters, values, sort, competitors = _competitor_search(request)
    return capped_xlsx_response(
        request,
        title=_("Competitors"),
        columns=COMPETITOR_EXPORT_COLUMNS,
        rows=competitors,
        filename="competitors",
        audit_action="market.competitors_exported",
        filters=_filters_used(values, sort=sort),
    )


@require(can_manage_market)
def competitor_edit_view(request, pk: int):
    competitor = get_object_or_404(Competitor, pk=pk)
    form = CompetitorForm(request.POST or None, competitor=competitor)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.competitor_save(by=request.user, competitor=competitor, **form.cleaned_data)
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The competitor %(name)s was saved.") % {"name": saved.name})
            return redirect("crm:competitors")
    return render(request, "crm/market/competitor_form.html", {"form": form, "competitor": competitor})


# --- market records: lists --------------------------------------------------------------------------


def _list_context(request, *, kind: str, filters, values: dict, records: QuerySet, sort: str, today: date) -> dict:
    return {
        "kind": KINDS[kind],
        "page": paginate(request, records),
        "filters": filters,
        "filtered": any(values.values()),
        "sort": sort,
        "today": today,
        "can_manage": can_manage_market(request.user),
        "export_query": export_query(request),
    }


def _intel_search(request, today: date):
    """The intelligence list's filters and sort, read the same way by the page and by its export."""
    filters = IntelFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, INTEL_SORTS, "-observed_on")
    entries = selectors.intel_search(
        query=(values["q"] or "").strip(),
        competitor_id=values["competitor"].pk if values["competitor"] else None,
        channel=values["channel"] or "",
        region_id=values["region"].pk if values["region"] else None,
        stale_as_of=today if values["stale"] else None,
    )
    return filters, values, sort, entries.order_by(*ordering)


def _demand_search(request, today: date):
    """The demand list's filters and sort, read the same way by the page and by its export."""
    filters = DemandFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, DEMAND_SORTS, "-refreshed_on")
    records = selectors.demand_search(
        query=(values["q"] or "").strip(),
        price_sensitivity=values["price_sensitivity"] or "",
        stale_as_of=today if values["stale"] else None,
    )
    return filters, values, sort, records.order_by(*ordering)


def _report_search(request, today: date):
    """The report list's filters and sort, read the same way by the page and by its export."""
    filters = ReportFilterForm(request.GET)
    values = filters.values()
    sort, ordering = ordering_from(request, REPORT_SORTS, "-period_end")
    reports = selectors.reports_search(
        query=(values["q"] or "").strip(), stale_as_of=today if values["stale"] else None
    )
    return filters, values, sort, reports.order_by(*ordering)


@require(can_view_market)
def intel_list_view(request):
    today = timezone.localdate()
    filters, values, sort, entries = _intel_search(request, today)
    context = _list_context(
        request, kind="intel", filters=filters, values=values, records=entries, sort=sort, today=today
    )
    return render(request, "crm/market/intel_list.html", context)


@require(can_view_market)
def demand_list_view(request):
    today = timezone.localdate()
    filters, values, sort, records = _demand_search(request, today)
    context = _list_context(
        request, kind="demand", filters=filters, values=values, records=records, sort=sort, today=today
    )
    return render(request, "crm/market/demand_list.html", context)


@require(can_view_market)
def report_list_view(request):
    today = timezone.localdate()
    filters, values, sort, reports = _report_search(request, today)
    context = _list_context(
        request, kind="report", filters=filters, values=values, records=reports, sort=sort, today=today
    )
    return render(request, "crm/market/report_list.html", context)


# --- market records: Excel exports -------------------------------------------------------------------

# what every kind of record ends with: who keeps it current and until when it is
FRESHNESS_COLUMNS = (
    (gettext_lazy("Responsible"), lambda record: record.owner.display_name),
    (gettext_lazy("Last refreshed"), lambda record: record.refreshed_on),
    (gettext_lazy("Stale from"), lambda record: record.stale_on),
)
INTEL_EXPORT_COLUMNS = (
    (gettext_lazy("Competitor"), lambda entry: entry.competitor.name),
    (gettext_lazy("Competitor product"), lambda entry: entry.product),
    (gettext_lazy("Observed price"), lambda entry: entry.observed_price),
    (gettext_lazy("Per"), lambda entry: entry.unit),
    (gettext_lazy("Channel"), lambda entry: entry.get_channel_display()),
    (gettext_lazy("Region"), lambda entry: entry.region.name),
    (gettext_lazy("Observed on"), lambda entry: entry.observed_on),
    (gettext_lazy("Source"), lambda entry: entry.source),
    (gettext_lazy("Notes"), lambda entry: entry.notes),
    *FRESHNESS_COLUMNS,
)
DEMAND_EXPORT_COLUMNS = (
    (gettext_lazy("Who needs it"), lambda record: record.who),
    (gettext_lazy("Customer code"), lambda record: record.customer.code if record.customer else ""),
    (gettext_lazy("Customer"), lambda record: record.customer.name if record.customer else ""),
    (gettext_lazy("What"), lambda record: record.need),
    (gettext_lazy("Volume"), lambda record: record.volume),
    (gettext_lazy("Timing"), lambda record: record.timing),
    (gettext_lazy("Price sensitivity"), lambda record: record.get_price_sensitivity_display()),
    (gettext_lazy("Notes"), lambda record: record.notes),
    *FRESHNESS_COLUMNS,
)
REPORT_EXPORT_COLUMNS = (
    (gettext_lazy("Title"), lambda report: report.title),
    (gettext_lazy("From"), lambda report: report.period_start),
    (gettext_lazy("To"), lambda report: report.period_end),
    (gettext_lazy("Summary"), lambda report: report.summary),
    (gettext_lazy("Attachment"), lambda report: report.attachment.original_name if report.attachment else ""),
    *FRESHNESS_COLUMNS,
)


def _records_export(request, *, kind: str, search, columns, filename: str, audit_action: str):
    _filters, values, sort, records = search(request, timezone.localdate())
    return capped_xlsx_response(
        request,
        title=KINDS[kind].label,
        columns=columns,
        rows=records,
        filename=filename,
        audit_action=audit_action,
        filters=_filters_used(values, sort=sort),
    )


@require(can_view_market)
def intel_export_view(request):
    return _records_export(
        request,
        kind="intel",
        search=_intel_search,
        columns=INTEL_EXPORT_COLUMNS,
        filename="market-intel",
        audit_action="market.intel_exported",
    )


@require(can_view_market)
def demand_export_view(request):
    return _records_export(
        request,
        kind="demand",
        search=_demand_search,
        columns=DEMAND_EXPORT_COLUMNS,
        filename="market-demand",
        audit_action="market.demand_exported",
    )


@require(can_view_market)
def report_export_view(request):
    return _records_export(
        request,
        kind="report",
        search=_report_search,
        columns=REPORT_EXPORT_COLUMNS,
        filename="market-reports",
        audit_action="market.reports_exported",
    )


# --- market records: create, edit, refresh -------------------------------------------------------


def _record_form_page(request, *, kind: str, pk: int | None = None):
    spec = KINDS[kind]
    record = get_object_or_404(selectors.market_records(kind), pk=pk) if pk is not None else None
    extra = {"customers": selectors.customers_visible(request.user)} if kind == "demand" else {}
    form = FORMS[kind](
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        record=record,
        user=request.user,
        **extra,
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        attachment = None
        try:
            if form.with_attachment and "attachment" in request.FILES:
                # Stored first, so that a refused file (judged by its content) saves nothing at all.
                attachment = fields["attachment"] = attachment_create(
                    upload=request.FILES["attachment"], by=request.user, allowed=DOCUMENTS
                )
            saved = services.market_record_save(by=request.user, kind=kind, record=record, **fields)
        except DomainError as error:
            if attachment is not None:  # the record was refused: its file goes too
                attachment_discard(attachment)
            form_show_error(form, error)
        else:
            messages.success(request, str(spec.saved) % {"record": saved})
            return redirect(spec.list_url)
    return render(
        request,
        "crm/market/record_form.html",
        {"kind": spec, "form": form, "record": record, "title": spec.edit_title if record else spec.new_title},
    )


def _record_refresh(request, *, kind: str, pk: int):
    """Saved unchanged: the record is confirmed as current and its refresh period starts again."""
    spec = KINDS[kind]
    record = get_object_or_404(selectors.market_records(kind), pk=pk)
    try:
        refreshed = services.market_record_save(by=request.user, kind=kind, record=record)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(spec.refreshed) % {"record": refreshed, "date": refreshed.stale_on.isoformat()})
    return redirect(safe_next(request, reverse(spec.list_url)))


@require(can_manage_market)
def intel_create_view(request):
    return _record_form_page(request, kind="intel")


@require(can_manage_market)
def intel_edit_view(request, pk: int):
    return _record_form_page(request, kind="intel", pk=pk)


@require_POST
@require(can_manage_market)
def intel_refresh_view(request, pk: int):
    return _record_refresh(request, kind="intel", pk=pk)


@require(can_manage_market)
def demand_create_view(request):
    return _record_form_page(request, kind="demand")


@require(can_manage_market)
def demand_edit_view(request, pk: int):
    return _record_form_page(request, kind="demand", pk=pk)


@require_POST
@require(can_manage_market)
def demand_refresh_view(request, pk: int):
    return _record_refresh(request, kind="demand", pk=pk)


@require(can_manage_market)
def report_create_view(request):
    return _record_form_page(request, kind="report")


@require(can_manage_market)
def report_edit_view(request, pk: int):
    return _record_form_page(request, kind="report", pk=pk)


@require_POST
@require(can_manage_market)
def report_refresh_view(request, pk: int):
    return _record_refresh(request, kind="report", pk=pk)


# --- stale records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleRow:
    record: Any
    days_overdue: int


@dataclass(frozen=True)
class StaleSection:
    kind: MarketKind
    rows: list[StaleRow]


@require(can_view_market)
def stale_view(request):
    today = timezone.localdate()
    mine = request.GET.get("mine") == "1"
    found = selectors.stale_records(request.user, on=today, owner=request.user if mine else None)
    # An entry is named by its competitor; one query for all of them, not one per row.
    prefetch_related_objects(found["intel"], "competitor")
    sections = [
        StaleSection(KINDS[code], [StaleRow(record, (today - record.stale_on).days) for record in found[code]])
        for code in ("intel", "demand", "report")
    ]
    return render(
        request,
        "crm/market/stale.html",
        {
            "sections": sections,
            "total": sum(len(section.rows) for section in sections),
            "mine": mine,
            "explanation": STALE_EXPLANATION,
            "can_manage": can_manage_market(request.user),
        },
    )


# --- attachments -------------------------------------------------------------------------------------


@require(can_view_market)
def market_attachment_view(request, pk: int):
    """The file of an intelligence entry or a research report, always as a download (never shown
    inline, whatever its type), under the name it was uploaded with."""
    attachment = get_object_or_404(selectors.market_attachments(), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
