"""Reading a figures request (page or API query string) into a ``Slice``, with the viewer's scope.

Bad values are refused with field errors and stable codes, in the reader's language; nothing is
guessed. Without dates the range is this year up to the end of this month (whole months)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from foodflow.core.api import row_id
from foodflow.core.errors import ValidationFailed
from foodflow.core.vocab import Channel, Tier

from .figures import DIMENSIONS, GRAINS, Slice, month_range
from .permissions import VIEW_SALES, scope_reps

MAX_DAYS = 366 * 5  # the widest range one request may ask for
ID_FILTERS = ("rep", "team", "region", "category", "product", "customer")


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), month_range(today)[1]


def slice_from(params, user, *, code: str = VIEW_SALES) -> tuple[Slice, str, str]:
    """(slice, dimension, grain) from a query dict; raises ValidationFailed (code "invalid_query")."""
    errors: dict[str, list] = {}
    start, end = default_range()
    dates = {}
    for name, fallback in (("date_from", start), ("date_to", end)):
        raw = (params.get(name) or "").strip()
        if not raw:
            dates[name] = fallback
            continue
        try:
            dates[name] = parse_date(raw)
        except ValueError:
            dates[name] = None
        if dates[name] is None:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    if not errors:
        if dates["date_from"] > dates["date_to"]:
            errors["date_to"] = [_("The end is before the start.")]
        elif (dates["date_to"] - dates["date_from"]).days > MAX_DAYS:
            errors["date_to"] = [_("Choose at most five years.")]
    dimension = params.get("by") or "period"
    if dimension not in DIMENSIONS:
        errors["by"] = [_("Unknown dimension.")]
    grain = params.get("grain") or "month"
    if grain not in GRAINS:
        errors["grain"] = [_("Unknown period.")]
    filters: dict = {}
    for name in ID_FILTERS:
        raw = (params.get(name) or "").strip()
        if raw:
            if pk := row_id(raw):  # not "²" (a digit to isdigit), nor past any id (SQLite overflows)
                filters[name] = pk
            else:
                errors[name] = [_("Choose from the list.")]
    for name, choices in (("channel", Channel.values), ("tier", Tier.values)):
        raw = (params.get(name) or "").strip()
        if raw:
            if raw in choices:
                filters[name] = raw
            else:
                errors[name] = [_("Choose from the list.")]
    if errors:
        raise ValidationFailed(_("Some filters are not valid."), code="invalid_query", fields=errors)
    reps = scope_reps(user, code)
    return Slice(dates["date_from"], dates["date_to"], reps=reps, **filters), dimension, grain
