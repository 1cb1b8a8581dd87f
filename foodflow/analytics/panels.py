"""The pieces a dashboard is made of: figure cards, charts and short ranking tables, and the
panels of targets, receivables, service and process monitoring added to the role dashboards."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from . import figures


@dataclass
class Card:
    code: str
    title: Any
    value: Any
    money: bool = False
    change: Decimal | None = None  # % vs a year earlier
    note: Any = None  # a rate or a short text under the figure
    percent: bool = False
    url: str = ""


@dataclass
class Chart:
    code: str
    title: Any
    spec: dict
    wide: bool = False


@dataclass
class Table:
    code: str
    title: Any
    columns: list
    rows: list  # [(cells, url)]
    url: str = ""
    empty: Any = ""


def card(code, title, value, **options) -> Card:
    return Card(code, title, value, **options)


def chart(code, title, spec, *, wide: bool = False) -> Chart:
    spec = {**spec, "title": ""}
    return Chart(code, title, spec, wide)


def ranking(code, title, rows, dimension: str, slice_) -> Table:
    """Rows of a figure ranking, each linking to its documents."""
    from django.utils.translation import gettext_lazy as _

    linked = []
    for row in rows:
        narrowed = figures.drill(slice_, dimension, row.key)
        url = f"{reverse('analytics:sales_documents')}?{urlencode(narrowed.params())}"
        linked.append(([row.label, row.amount], url))
    params = {"by": dimension, **slice_.params()}
    return Table(
        code,
        title,
        [_("Name"), _("Revenue")],
        linked,
        url=f"{reverse('analytics:sales')}?{urlencode(params)}",
    )


def extend(board, code: str, user, today) -> None:
    """The panels of the other figures (targets, receivables, service, monitoring) on ``board``."""
    from .permissions import (
        VIEW_FINANCE,
        VIEW_PROCESS,
        VIEW_SERVICE,
        can_view_finance,
        can_view_process,
        can_view_service,
        scope_reps,
    )

    if code in ("rep", "manager", "director"):
        _targets(board, code, user, today)
    if code in ("finance", "manager", "director") and can_view_finance(user):
        _receivables(board, code, scope_reps(user, VIEW_FINANCE), today)
    if code in ("service", "director") and can_view_service(user):
        _service(board, code, scope_reps(user, VIEW_SERVICE), today)
    if code in ("manager", "director") and can_view_process(user):
        _process(board, scope_reps(user, VIEW_PROCESS), today)


def _process(board, reps, today) -> None:
    from django.utils.translation import gettext_lazy as _

    from .monitoring import breaches_now, compliance_rate

    start, end = last_90_days(today)
    url = reverse("analytics:monitoring")
    breaches = breaches_now(reps)
    board.cards += [
        card(
            "compliance",
            _("Stages within target, last 90 days"),
            compliance_rate(reps, start, end),
            percent=True,
            url=url,
        ),
        card("breaches", _("Documents over their stage target now"), len(breaches), url=f"{url}?tab=breaches"),
    ]
    board.tables.append(
        Table(
            "breaches",
            _("Longest over their stage target"),
            [_("Document"), _("Stage"), _("Hours in stage"), _("Target (hours)")],
            [([b.label, b.stage.label, b.hours, b.target_hours], b.url) for b in breaches[:8]],
            url=f"{url}?tab=breaches",
            empty=_("Every document is within its stage target."),
        )
    )


def _targets(board, code: str, user, today) -> None:
    """This month's targets: the rep's own completion on a dial, the manager's and director's
    targets in a table (completion, pace, forecast)."""
    from django.utils.translation import gettext_lazy as _
    from django.utils.translation import pgettext_lazy

    from . import charts
    from .models import SalesTarget
    from .targets import targets_progress

    month = today.replace(day=1)
    rows = targets_progress(user, "month", month, today=today)
    url = f"{reverse('analytics:targets')}?{urlencode({'period': 'month', 'start': month.isoformat()})}"
    if code == "rep":
        mine = [row for row in rows if row.target.holder == SalesTarget.Holder.REP and row.target.rep_id == user.pk]
        if mine:
            row = mine[0]
            board.cards.insert(
                0, card("target", _("This month's target reached"), row.completion_pct, percent=True, url=url)
            )
            board.charts.insert(0, chart("target", _("This month's target"), charts.gauge_chart(row.completion_pct)))
        return
    holders = (
        (SalesTarget.Holder.COMPANY, SalesTarget.Holder.REGION)
        if code == "director"
        else (
            SalesTarget.Holder.TEAM,
            SalesTarget.Holder.REP,
        )
    )
    shown = [row for row in rows if row.target.holder in holders]
    board.tables.insert(
        0,
        Table(
            "targets",
            _("This month's targets"),
            [pgettext_lazy("sales target", "For"), _("Completion (%)"), _("Pace (%)"), _("Forecast")],
            [([row.label, row.completion_pct, row.pace_pct, row.forecast], url) for row in shown[:12]],
            url=url,
            empty=_("No targets set for this month."),
        ),
    )


def last_90_days(today):
    from datetime import timedelta

    return today - timedelta(days=89), today


def _receivables(board, code: str, reps, today) -> None:
    from django.utils.translation import gettext_lazy as _

    from . import charts
    from .finance_figures import AGING_BUCKETS, aging, collection_by, collection_totals, dso

    start, end = last_90_days(today)
    url = reverse("analytics:receivables_figures")
    collection = collection_totals(reps, start, end)
    board.cards.append(card("collection", _("Collection rate, last 90 days"), collection.rate, percent=True, url=url))
    if code == "director":
        return
    aged = aging(reps, today)
    board.cards += [
        card("dso", _("DSO (days)"), dso(reps, today), url=url),
        card("overdue", _("Overdue receivables"), aged.total.overdue, money=True, url=url),
    ]
    buckets = [(str(label), aged.total.buckets[name].amount) for name, label, *_ in AGING_BUCKETS]
    board.charts.append(
        chart(
            "aging",
            _("Receivables by days overdue"),
            charts.series_chart([label for label, _v in buckets], [(_("Open"), "bar", [v for _l, v in buckets])]),
        )
    )
    rows = sorted(collection_by(reps, start, end, by="rep"), key=lambda row: row.rate if row.rate is not None else 999)
    board.tables.append(
        Table(
            "collection_by_rep",
            _("Collection by rep, last 90 days (lowest first)"),
            [_("Rep"), _("Due"), _("Collected"), _("Rate (%)")],
            [([row.label, row.due, row.collected, row.rate], "") for row in rows[:10]],
            url=url,
        )
    )


def _service(board, code: str, reps, today) -> None:
    from django.utils.translation import gettext_lazy as _

    from . import charts
    from .finance_figures import (
        complaint_rate_by,
        complaint_totals,
        satisfaction_by,
        satisfaction_totals,
    )

    start, end = last_90_days(today)
    url = reverse("analytics:service_figures")
    satisfaction = satisfaction_totals(reps, start, end)
    board.cards.append(card("nps", _("NPS, last 90 days"), satisfaction.nps, url=url))
    if code == "director":
        return
    complaints = complaint_totals(reps, start, end)
    board.cards += [
        card("csat", _("CSAT (1–5), last 90 days"), satisfaction.csat, url=url),
        card("complaint_rate", _("Complaints per 1,000 units delivered"), complaints.rate, url=url),
        card("complaints", _("Complaints, last 90 days"), complaints.complaints, url=url),
    ]
    by_region = complaint_rate_by(reps, start, end, by="region")
    board.charts.append(
        chart(
            "complaint_rate",
            _("Complaints per 1,000 units by region"),
            charts.series_chart(
                [row.label for row in by_region], [(_("Per 1,000 units"), "bar", [row.rate for row in by_region])]
            ),
        )
    )
    regions = satisfaction_by(reps, start, end, by="region")
    board.charts.append(
        chart(
            "satisfaction",
            _("Satisfaction by region"),
            charts.series_chart(
                [row.label for row in regions],
                [
                    (_("CSAT (1–5)"), "bar", [row.csat for row in regions]),
                    (_("NPS"), "line", [row.nps for row in regions]),
                ],
            ),
        )
    )


__all__ = ["Card", "Chart", "Table", "card", "chart", "extend", "field", "ranking"]
