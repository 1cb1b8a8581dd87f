"""Reading after-sales: the complaint list's filters (the page and the API share them), a
complaint's timeline, and lots named by their number."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from foodflow.core.models import StageEvent
from foodflow.inventory.models import Lot

from .models import Complaint
from .workflows import COMPLAINT_FLOW, OPEN


def complaints_filtered(
    queryset: QuerySet[Complaint],
    *,
    q: str = "",
    state: str = "",
    severity: str = "",
    category: str = "",
    customer=None,
    product=None,
    lot: str = "",
    owner=None,
) -> QuerySet[Complaint]:
    """Every filter optional; ``state`` "open" is any state still being worked on."""
    if state == "open":
        queryset = queryset.filter(state__in=OPEN)
    elif state:
        queryset = queryset.filter(state=state)
    for name, value in (("severity", severity), ("category", category)):
        if value:
            queryset = queryset.filter(**{name: value})
    for name, value in (("customer", customer), ("product", product), ("owner", owner)):
        if value is not None and value != "":
            queryset = queryset.filter(**{f"{name}_id": getattr(value, "pk", value)})
    if lot:
        queryset = queryset.filter(lot__lot_number__iexact=lot.strip())
    if q:
        queryset = queryset.filter(
            Q(number__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(customer__code__iexact=q)
            | Q(contact_name__icontains=q)
            | Q(contact_phone__icontains=q)
            | Q(description__icontains=q)
        )
    return queryset


def lots_numbered(number: str, *, product=None) -> list[Lot]:
    """The lots with this number (at most two: a number is unique per product only)."""
    lots = Lot.objects.filter(lot_number=(number or "").strip()).select_related("product")
    if product is not None:
        lots = lots.filter(product=product)
    return list(lots[:2])


def complaint_timeline(complaint: Complaint) -> list[dict]:
    """What was done and the changes of state, oldest first."""
    events = [
        {"at": action.at, "by": action.by, "kind": action.kind, "label": action.get_kind_display(), "text": action.note}
        for action in complaint.actions.select_related("by")
    ]
    changes = StageEvent.objects.filter(workflow=COMPLAINT_FLOW.name, object_id=str(complaint.pk)).select_related("by")
    for change in changes:
        events.append(
            {
                "at": change.at,
                "by": change.by,
                "kind": "state",
                "label": _("Now: %(state)s") % {"state": COMPLAINT_FLOW.states.get(change.to_state, change.to_state)},
                "text": "",
            }
        )
    return sorted(events, key=lambda event: event["at"])
