"""Process monitoring: the time each document spends in each stage, from the stage events;
stage SLA targets, the documents breaching them now, bottlenecks and trends; the overstay alert.
(Helper A builds this module.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def compliance_rate(reps: frozenset[int] | None, date_from: date, date_to: date) -> Decimal | None:
    """The share (%, 1 decimal) of the stage passages that ended in the range, of documents owned by
    ``reps`` (None: everyone), that stayed within their stage's target; None when there were none."""
    raise NotImplementedError


def overstay_alerts_send(now=None) -> int:
    """Alert each document's owner once per stage entry when it overstays its stage's target;
    returns the alerts sent (idempotent: a second run sends none)."""
    raise NotImplementedError
