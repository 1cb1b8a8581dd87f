"""The sales queries of the role dashboards, by name: each takes the reps in view (None: all)
and today, and returns figures. The dashboard pages call them, and ``bench/analytics.py`` times
each one at a million order lines against the same aggregation written directly in SQL over the
order documents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from . import figures
from .figures import Slice, add_months, month_range


def year_to_date(reps, today: date) -> Slice:
    """1 January to the end of this month (whole months)."""
    return Slice(today.replace(month=1, day=1), month_range(today)[1], reps=reps)


def last_twelve_months(reps, today: date) -> Slice:
    return Slice(add_months(today.replace(day=1), -11), month_range(today)[1], reps=reps)


def month_to_date(reps, today: date) -> Slice:
    return Slice(today.replace(day=1), today, reps=reps)


def last_days(reps, today: date, days: int = 30) -> Slice:
    return Slice(today - timedelta(days=days - 1), today, reps=reps)


SALES_QUERIES: dict[str, Callable] = {
    "totals_ytd": lambda reps, today: figures.totals(year_to_date(reps, today)),
    "totals_ytd_year_ago": lambda reps, today: figures.totals(year_to_date(reps, today).shifted(months=12)),
    "totals_month_to_date": lambda reps, today: figures.totals(month_to_date(reps, today)),
    "trend_12_months": lambda reps, today: figures.trend(last_twelve_months(reps, today)),
    "daily_30_days": lambda reps, today: figures.revenue(last_days(reps, today), "period", grain="day"),
    "by_region_ytd": lambda reps, today: figures.revenue(year_to_date(reps, today), "region"),
    "by_channel_ytd": lambda reps, today: figures.revenue(year_to_date(reps, today), "channel"),
    "by_rep_ytd": lambda reps, today: figures.revenue(year_to_date(reps, today), "rep"),
    "mix_product_lines_ytd": lambda reps, today: figures.mix(year_to_date(reps, today)),
    "top_customers_ytd": lambda reps, today: figures.ranking(year_to_date(reps, today), "customer"),
    "top_products_ytd": lambda reps, today: figures.ranking(year_to_date(reps, today), "product"),
    "new_customers_12_months": lambda reps, today: figures.customers_new_returning(last_twelve_months(reps, today)),
}

# The dashboard of each role shows these sales queries (and its own panels besides).
ROLE_QUERIES: dict[str, tuple[str, ...]] = {
    "rep": (
        "totals_ytd",
        "totals_ytd_year_ago",
        "totals_month_to_date",
        "trend_12_months",
        "mix_product_lines_ytd",
        "top_customers_ytd",
        "new_customers_12_months",
    ),
    "manager": (
        "totals_ytd",
        "totals_ytd_year_ago",
        "totals_month_to_date",
        "trend_12_months",
        "daily_30_days",
        "by_rep_ytd",
        "by_channel_ytd",
        "top_customers_ytd",
        "top_products_ytd",
    ),
    "director": tuple(SALES_QUERIES),
    "finance": ("totals_ytd", "totals_month_to_date", "trend_12_months", "by_region_ytd"),
    "service": ("totals_month_to_date", "trend_12_months"),
}
