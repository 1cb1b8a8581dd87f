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
    return None


__all__ = ["Card", "Chart", "Table", "card", "chart", "extend", "field", "ranking"]
