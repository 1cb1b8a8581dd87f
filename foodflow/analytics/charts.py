"""Chart specifications for the pages: plain data (labels, series, numbers as floats for drawing
only; the tables beside each chart show the exact figures). ``static/analytics/charts.js`` turns a
specification into an ECharts option; the page carries it as a ``json_script`` data block."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _


def _number(value) -> float | None:
    return None if value is None else float(value)


def trend_chart(rows: Iterable, *, title: str = "") -> dict:
    """Revenue per period as bars, the same periods a year earlier as a line."""
    rows = list(rows)
    return {
        "kind": "trend",
        "title": title,
        "categories": [row.label for row in rows],
        "series": [
            {"name": _("Revenue"), "type": "bar", "data": [_number(row.amount) for row in rows]},
            {
                "name": _("A year earlier"),
                "type": "line",
                "data": [_number(row.extra.get("revenue_year_ago")) for row in rows],
            },
        ],
    }


def bars_chart(rows: Iterable, *, title: str = "", value: str = "amount", name: str | None = None) -> dict:
    """One bar per row (largest first, at the top)."""
    rows = list(rows)
    return {
        "kind": "bars",
        "title": str(title),
        "categories": [row.label for row in rows],
        "series": [
            {"name": name or _("Revenue"), "type": "bar", "data": [_number(getattr(row, value)) for row in rows]}
        ],
    }


def pie_chart(rows: Iterable, *, title: str = "") -> dict:
    """Shares of the whole (the product mix)."""
    rows = list(rows)
    return {
        "kind": "pie",
        "title": str(title),
        "series": [{"name": str(title), "data": [{"name": row.label, "value": _number(row.amount)} for row in rows]}],
    }


def series_chart(categories: list[str], series: list[tuple[str, str, list]], *, title: str = "") -> dict:
    """Any bars/lines over shared categories: series as (name, "bar"|"line", values)."""
    return {
        "kind": "trend",
        "title": str(title),
        "categories": [str(c) for c in categories],
        "series": [
            {"name": str(name), "type": kind, "data": [_number(v) for v in values]} for name, kind, values in series
        ],
    }


def gauge_chart(value, *, title: str = "", maximum: float = 150) -> dict:
    """One percentage on a dial (a target's completion)."""
    return {"kind": "gauge", "title": str(title), "value": _number(value), "max": maximum}
