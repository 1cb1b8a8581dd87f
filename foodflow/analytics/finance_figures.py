"""Receivables and service figures in the same slices as the sales figures: collection rate,
DSO, receivables aging, complaint rate, satisfaction (CSAT / NPS). (Helper C builds this module.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def collection_rate(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """Of the receivables of ``reps``' customers (None: all) falling due in the range, the share (%,
    1 decimal) of their amount paid by ``date_to``; None when nothing fell due."""
    raise NotImplementedError


def csat_average(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """The average CSAT (1–5, 2 decimals) of the survey answers received in the range from the
    customers owned by ``reps`` (None: all); None when there were none."""
    raise NotImplementedError
