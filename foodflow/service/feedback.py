"""The feedback channel: suggestions about the process from staff and customers, taken under
review by an owner and decided (accepted or rejected, with the decision written), then marked
implemented; and the monthly summary of what came in and what was decided."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user
from foodflow.core.workflows import transition, workflow_started

from .models import Suggestion
from .permissions import can_manage_suggestions, can_suggest
from .workflows import SUGGESTION_FLOW

NUMBER_PREFIX = "SG"


def suggestion_submit(
    *,
    by,
    category: str,
    title: str,
    text: str,
    source: str = Suggestion.Source.STAFF,
    customer=None,
    contact_name: str = "",
) -> Suggestion:
    """Staff submit their own suggestions and those customers give them (source
    ``customer``); ``by`` None is the public form."""
    if by is not None and not can_suggest(by):
        raise PermissionDeniedError()
    errors = {}
    if category not in Suggestion.Category.values:
        errors["category"] = [_("Not a known category.")]
    if source not in Suggestion.Source.values or (by is None and source != Suggestion.Source.CUSTOMER):
        errors["source"] = [_("Not a known source.")]
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        errors["title"] = [_("Give the suggestion a title.")]
    if not text:
        errors["text"] = [_("Describe the suggestion.")]
    if source == Suggestion.Source.CUSTOMER and customer is None and not (contact_name or "").strip():
        errors["contact_name"] = [_("Name the customer or the person who suggested it.")]
    if errors:
        raise ValidationFailed(_("Complete the suggestion."), code="suggestion_incomplete", fields=errors)
    with transaction.atomic():
        suggestion = Suggestion.objects.create(
            number=number_next(doc_type=NUMBER_PREFIX),
            source=source,
            category=category,
            title=title[:120],
            text=text[:4000],
            customer=customer,
            contact_name=(contact_name or "").strip()[:64],
            created_by=acting_user(by),
        )
        workflow_started(workflow=SUGGESTION_FLOW, obj=suggestion, by=by)
        audit_record(
            action="suggestion.submitted", actor=by, obj=suggestion, changes={"category": category, "source": source}
        )
    return suggestion


def _require_manage(by) -> None:
    if by is not None and not can_manage_suggestions(by):
        raise PermissionDeniedError()


def suggestion_review(*, by, suggestion: Suggestion, owner=None) -> Suggestion:
    """Taken under review; the owner (default: who takes it) sees it to a decision."""
    _require_manage(by)
    owner = owner or acting_user(by)
    if owner is None:
        raise ValidationFailed(
            _("Name who reviews it."), code="owner_missing", fields={"owner": [_("Name who reviews it.")]}
        )
    # the owner sees it to a decision: someone who cannot decide would hold it forever
    if not can_manage_suggestions(owner):  # (an inactive user has no permission)
        message = _("%(name)s cannot decide suggestions.") % {"name": owner.display_name}
        raise ValidationFailed(message, code="owner_cannot_decide", fields={"owner": [message]})

    def apply(row):
        row.owner = owner
        return ["owner"]

    return transition(
        workflow=SUGGESTION_FLOW,
        obj=suggestion,
        action="review",
        by=by,
        apply=apply,
        changes={"owner": owner.username},
    )


def suggestion_decide(*, by, suggestion: Suggestion, accept: bool, decision: str) -> Suggestion:
    _require_manage(by)
    decision = (decision or "").strip()
    if not decision:
        raise ValidationFailed(
            _("Write the decision and why."),
            code="decision_missing",
            fields={"decision": [_("Write the decision and why.")]},
        )

    def apply(row):
        row.decision, row.decided_at = decision[:4000], timezone.now()
        return ["decision", "decided_at"]

    return transition(
        workflow=SUGGESTION_FLOW,
        obj=suggestion,
        action="accept" if accept else "reject",
        by=by,
        reason=decision[:200],
        apply=apply,
    )


def suggestion_implemented(*, by, suggestion: Suggestion, note: str = "") -> Suggestion:
    _require_manage(by)
    note = (note or "").strip()

    def apply(row):
        row.implemented_at = timezone.now()
        if note:
            row.decision = f"{row.decision}\n\n{note}"[:4000]
            return ["implemented_at", "decision"]
        return ["implemented_at"]

    return transition(workflow=SUGGESTION_FLOW, obj=suggestion, action="implement", by=by, apply=apply)


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def suggestions_monthly_summary(month: date) -> dict:
    """What came in during the month (by category and source), what was decided in it
    (accepted, rejected, implemented), and what is still waiting at the month's end.

    The month is the company's calendar month (``TIME_ZONE``, Asia/Shanghai), whatever zone a
    request may have activated: the same month gives the same figures to everyone."""
    start, end = month_bounds(month)
    zone = timezone.get_default_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end, time.min, tzinfo=zone)
    received = Suggestion.objects.filter(created_at__gte=since, created_at__lt=until)
    by_category = {row["category"]: row["n"] for row in received.values("category").annotate(n=Count("id"))}
    by_source = {row["source"]: row["n"] for row in received.values("source").annotate(n=Count("id"))}
    decided = Suggestion.objects.filter(decided_at__gte=since, decided_at__lt=until)
    return {
        "month": start,
        "received": received.count(),
        # every category and source, with its code: a table (and a client) reads the same rows each month
        "by_category": [
            {"code": value, "label": label, "count": by_category.get(value, 0)}
            for value, label in Suggestion.Category.choices
        ],
        "by_source": [
            {"code": value, "label": label, "count": by_source.get(value, 0)}
            for value, label in Suggestion.Source.choices
        ],
        "accepted": decided.filter(state__in=("accepted", "implemented")).count(),
        "rejected": decided.filter(state="rejected").count(),
        "implemented": Suggestion.objects.filter(implemented_at__gte=since, implemented_at__lt=until).count(),
        # received by the month's end and not decided by then (decided_at NULL counts as waiting)
        "waiting": Suggestion.objects.filter(created_at__lt=until).exclude(decided_at__lt=until).count(),
        "decisions": list(decided.select_related("owner").order_by("decided_at", "id")),
    }
