"""Reading the feedback channel: the suggestion list's filters (the page, its export and the
API share them), a suggestion's timeline, the people who may own one, and the summary's month."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.accounts.models import User
from foodflow.core.audit import object_label
from foodflow.core.models import StageEvent

from .models import Suggestion
from .permissions import can_manage_suggestions
from .workflows import SUGGESTION_FLOW

# the states still waiting for a decision ("open" in the filters)
WAITING = ("new", "under_review")

SUGGESTION_SORTS = {
    "created": ("created_at", "id"),
    "number": ("number",),
    "title": ("title", "id"),
    "decided": ("decided_at", "id"),
}
DEFAULT_SORT = "-created"


def suggestions_listed() -> QuerySet[Suggestion]:
    """Every suggestion with what its list row shows."""
    return Suggestion.objects.select_related("owner", "customer", "created_by")


def suggestions_filtered(
    queryset: QuerySet[Suggestion],
    *,
    q: str = "",
    state: str = "",
    category: str = "",
    source: str = "",
    owner=None,
) -> QuerySet[Suggestion]:
    """Every filter optional; ``state`` "open" is any state still waiting for a decision."""
    if state == "open":
        queryset = queryset.filter(state__in=WAITING)
    elif state:
        queryset = queryset.filter(state=state)
    for name, value in (("category", category), ("source", source)):
        if value:
            queryset = queryset.filter(**{name: value})
    if owner is not None and owner != "":
        queryset = queryset.filter(owner_id=getattr(owner, "pk", owner))
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(text__icontains=q))
    return queryset


def suggestion_timeline(suggestion: Suggestion) -> list[dict]:
    """The changes of state, oldest first (as a complaint's timeline shows them)."""
    changes = StageEvent.objects.filter(
        workflow=SUGGESTION_FLOW.name, object_type=object_label(suggestion), object_id=str(suggestion.pk)
    ).select_related("by")
    events = []
    for change in changes:
        if change.action == "create":
            label = _("Submitted")
        else:
            step = next((item for item in SUGGESTION_FLOW.transitions if item.action == change.action), None)
            label = step.label if step is not None else change.action
        events.append(
            {
                "at": change.at,
                "by": change.by,
                "action": change.action,
                "label": label,
                "state": change.to_state,
                "state_label": SUGGESTION_FLOW.states.get(change.to_state, change.to_state),
            }
        )
    return events


def suggestion_deciders() -> QuerySet[User]:
    """The active users who may own and decide a suggestion."""
    users = User.objects.filter(is_active=True).prefetch_related("roles").order_by("username")
    return User.objects.filter(pk__in=[user.pk for user in users if can_manage_suggestions(user)]).order_by("username")


def last_month(today: date | None = None) -> date:
    """The first day of the month before ``today`` (the company's today by default)."""
    first = (today or timezone.localdate()).replace(day=1)
    return first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
