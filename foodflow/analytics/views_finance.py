"""Pages of the receivables and service figures: collection rate, DSO and aging; complaint rate,
CSAT and NPS, for a date range (the last three full months unless chosen) and the reader's data
scope, each table exportable to Excel. The figures and their definitions are
``finance_figures``'; these views only parse the filters and lay out the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy

from foodflow.core.exports import export_query, xlsx_response
from foodflow.core.forms import StyledFormMixin
from foodflow.core.views import require

from . import finance_figures as ff
from .permissions import VIEW_FINANCE, VIEW_SERVICE, can_view_finance, can_view_service, scope_reps

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PER_PAGE = 50


class RangeForm(StyledFormMixin, forms.Form):
    """The period (both days included) and the table shown; a value that does not parse is ignored."""

    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", field.label)
            field.widget.attrs.setdefault("data-testid", f"filter-{name}")
        self.is_valid()

    def range(self) -> tuple[date, date]:
        default_from, default_to = ff.default_range()
        date_from = self.cleaned_data.get("date_from") or default_from
        date_to = self.cleaned_data.get("date_to") or default_to
        return (date_to, date_from) if date_from > date_to else (date_from, date_to)


# --- tables ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One exportable table of a page: its groupings, its columns (label, value of a row), the
    sort keys a reader may choose, and where its rows come from."""

    name: str
    title: object
    groups: dict  # by → the label of its tab
    columns: Callable  # by → [(label, fn)]
    rows: Callable  # (reps, date_from, date_to, by) → rows
    sorts: dict  # key → fn(row); None values sort last
    default_sort: str


def _group_column(by: str):
    label = {"rep": gettext_lazy("Rep"), "region": gettext_lazy("Region"), "customer": gettext_lazy("Customer")}[by]
    return [(label, lambda row: row.label), (gettext_lazy("Code"), lambda row: row.code)]


def _aging_columns(by: str):
    columns = _group_column(by)
    for name, label, *_bounds in ff.AGING_BUCKETS:
        columns.append((label, lambda row, name=name: row.buckets[name].amount))
        columns.append(
            (
                gettext_lazy("%(bucket)s (receivables)") % {"bucket": label},
                lambda row, name=name: row.buckets[name].count,
            )
        )
    columns += [
        (gettext_lazy("Open"), lambda row: row.amount),
        (gettext_lazy("Overdue"), lambda row: row.overdue),
        (gettext_lazy("Receivables"), lambda row: row.count),
    ]
    return columns


def _collection_columns(by: str):
    return [
        *_group_column(by),
        (gettext_lazy("Receivables falling due"), lambda row: row.receivables),
        (gettext_lazy("Amount"), lambda row: row.amount),
        (gettext_lazy("Credited"), lambda row: row.credited),
        (gettext_lazy("Owed"), lambda row: row.due),
        (gettext_lazy("Collected"), lambda row: row.collected),
        (gettext_lazy("Outstanding"), lambda row: row.outstanding),
        (gettext_lazy("Collection rate (%)"), lambda row: row.rate),
    ]


def _complaint_columns(by: str):
    return [
        *_group_column(by),
        (gettext_lazy("Complaints"), lambda row: row.complaints),
        (gettext_lazy("Units delivered"), lambda row: row.delivered),
        (gettext_lazy("Complaints per 1,000 units"), lambda row: row.rate),
    ]


def _satisfaction_columns(by: str):
    return [
        *_group_column(by),
        (gettext_lazy("Answers"), lambda row: row.answered),
        (gettext_lazy("Average CSAT (1–5)"), lambda row: row.csat),
        (gettext_lazy("NPS"), lambda row: row.nps),
        (gettext_lazy("Promoters (9–10)"), lambda row: row.promoters),
        (gettext_lazy("Passives (7–8)"), lambda row: row.passives),
        (gettext_lazy("Detractors (0–6)"), lambda row: row.detractors),
    ]


LABEL_SORT = {"label": lambda row: (row.label, row.code)}
RECEIVABLE_TABLES = {
    "aging": Table(
        name="aging",
        title=gettext_lazy("Receivables aging"),
        groups={
            "rep": gettext_lazy("Aging by rep"),
            "region": gettext_lazy("Aging by region"),
            "customer": gettext_lazy("Aging by customer"),
        },
        columns=_aging_columns,
        rows=lambda reps, date_from, date_to, by: ff.aging(reps, date_to, by=by).rows,
        sorts={**LABEL_SORT, "open": lambda row: row.amount, "overdue": lambda row: row.overdue},
        default_sort="-overdue",
    ),
    "collection": Table(
        name="collection",
        title=gettext_lazy("Collection"),
        groups={
            "rep": gettext_lazy("Collection by rep"),
            "region": gettext_lazy("Collection by region"),
            "customer": gettext_lazy("Collection by customer"),
        },
        columns=_collection_columns,
        rows=ff.collection_by,
        sorts={
            **LABEL_SORT,
            "due": lambda row: row.due,
            "collected": lambda row: row.collected,
            "outstanding": lambda row: row.outstanding,
            "rate": lambda row: row.rate,
        },
        default_sort="-outstanding",
    ),
}
SERVICE_TABLES = {
    "complaints": Table(
        name="complaints",
        title=gettext_lazy("Complaint rate"),
        groups={"rep": gettext_lazy("Complaints by rep"), "region": gettext_lazy("Complaints by region")},
        columns=_complaint_columns,
        rows=ff.complaint_rate_by,
        sorts={
            **LABEL_SORT,
            "complaints": lambda row: row.complaints,
            "delivered": lambda row: row.delivered,
            "rate": lambda row: row.rate,
        },
        default_sort="-rate",
    ),
    "satisfaction": Table(
        name="satisfaction",
        title=gettext_lazy("Satisfaction"),
        groups={"rep": gettext_lazy("Satisfaction by rep"), "region": gettext_lazy("Satisfaction by region")},
        columns=_satisfaction_columns,
        rows=ff.satisfaction_by,
        sorts={
            **LABEL_SORT,
            "answered": lambda row: row.answered,
            "csat": lambda row: row.csat,
            "nps": lambda row: row.nps,
        },
        default_sort="-answered",
    ),
}


def sort_rows(rows: list, table: Table, sort: str) -> tuple[list, str]:
    """The rows by one of the table's sort keys (``-`` descending); a row without the figure
    comes last either way; ties by label."""
    if sort.lstrip("-") not in table.sorts:
        sort = table.default_sort
    value = table.sorts[sort.lstrip("-")]
    descending = sort.startswith("-")
    known = [row for row in rows if value(row) is not None]
    known.sort(key=lambda row: (row.label, row.code, row.key or 0))
    known.sort(key=value, reverse=descending)  # stable: equal figures stay by label
    return known + [row for row in rows if value(row) is None], sort


@dataclass
class Choice:
    table: Table
    by: str
    sort: str
    rows: list


def _choice(request, tables: dict[str, Table], reps, date_from: date, date_to: date) -> Choice:
    table = tables.get(request.GET.get("table", ""), next(iter(tables.values())))
    by = request.GET.get("by", "")
    by = by if by in table.groups else next(iter(table.groups))
    rows, sort = sort_rows(table.rows(reps, date_from, date_to, by), table, request.GET.get("sort", ""))
    return Choice(table=table, by=by, sort=sort, rows=rows)


def _tabs(tables: dict[str, Table]) -> list[tuple[str, str, object]]:
    """(table, by, label) of every table and grouping, for the tab bar."""
    return [(table.name, by, label) for table in tables.values() for by, label in table.groups.items()]


@dataclass(frozen=True)
class FiguresPage:
    """A page of figures with its tables: the receivables' or the service's."""

    name: str  # its URL name; its export's is name_export
    template: str
    tables: dict[str, Table]
    scope: str  # the permission whose data scope narrows the figures
    definitions: tuple
    headline: Callable  # (reps, date_from, date_to) → the page's own figures, by context name


RECEIVABLES = FiguresPage(
    name="receivables_figures",
    template="analytics/receivables_figures.html",
    tables=RECEIVABLE_TABLES,
    scope=VIEW_FINANCE,
    definitions=ff.RECEIVABLES_DEFINITIONS,
    headline=lambda reps, date_from, date_to: {
        "collection": ff.collection_totals(reps, date_from, date_to),
        "dso": ff.dso_detail(reps, date_to),
        "aging": ff.aging(reps, date_to),
        "buckets": ff.AGING_BUCKETS,
    },
)
SERVICE = FiguresPage(
    name="service_figures",
    template="analytics/service_figures.html",
    tables=SERVICE_TABLES,
    scope=VIEW_SERVICE,
    definitions=ff.SERVICE_DEFINITIONS,
    headline=lambda reps, date_from, date_to: {
        "complaints": ff.complaint_totals(reps, date_from, date_to),
        "satisfaction": ff.satisfaction_totals(reps, date_from, date_to),
    },
)


@dataclass(frozen=True)
class Asked:
    """What a page or its export was asked for: the period, the reader's scope, the table."""

    form: RangeForm
    reps: frozenset[int] | None
    date_from: date
    date_to: date
    choice: Choice


def _asked(request, figures: FiguresPage) -> Asked:
    form = RangeForm(request.GET)
    date_from, date_to = form.range()
    reps = scope_reps(request.user, figures.scope)
    return Asked(form, reps, date_from, date_to, _choice(request, figures.tables, reps, date_from, date_to))


def _page(request, figures: FiguresPage):
    asked = _asked(request, figures)
    return render(
        request,
        figures.template,
        {
            "form": asked.form,
            "date_from": asked.date_from,
            "date_to": asked.date_to,
            **figures.headline(asked.reps, asked.date_from, asked.date_to),
            "choice": asked.choice,
            "tabs": _tabs(figures.tables),
            "page": Paginator(asked.choice.rows, PER_PAGE).get_page(request.GET.get("page")),
            "export_url": reverse(f"analytics:{figures.name}_export"),
            "export_query": export_query(request),
            "definitions": figures.definitions,
        },
    )


def _export(request, figures: FiguresPage):
    asked = _asked(request, figures)
    choice, date_from, date_to = asked.choice, asked.date_from, asked.date_to
    return xlsx_response(
        request,
        title=str(choice.table.title),
        columns=choice.table.columns(choice.by),
        rows=choice.rows,
        filename=f"{choice.table.name}-{choice.by}-{date_from.isoformat()}-{date_to.isoformat()}",
        audit_action=f"analytics.{figures.name}_exported",
        filters={
            "table": choice.table.name,
            "by": choice.by,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "sort": choice.sort,
        },
    )


# --- the views -----------------------------------------------------------------------------------------


@require(can_view_finance)
def receivables_figures_view(request):
    return _page(request, RECEIVABLES)


@require(can_view_finance)
def receivables_figures_export_view(request):
    return _export(request, RECEIVABLES)


@require(can_view_service)
def service_figures_view(request):
    return _page(request, SERVICE)


@require(can_view_service)
def service_figures_export_view(request):
    return _export(request, SERVICE)


urlpatterns = [
    path("receivables/", receivables_figures_view, name="receivables_figures"),
    path("receivables/export/", receivables_figures_export_view, name="receivables_figures_export"),
    path("service/", service_figures_view, name="service_figures"),
    path("service/export/", service_figures_export_view, name="service_figures_export"),
]
