"""Revisit tasks for key accounts (tier A): owed after one of their complaints closes, after
a poor survey answer (NPS 0–6), and every quarter when nobody has been back. Each task goes
to the customer's rep; doing it records the outcome and a call in the customer's activities.
Made once per reason and complaint (or quarter), however often the jobs run."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.notifications import notify
from foodflow.core.vocab import Tier
from foodflow.crm.models import Activity, Customer

from .models import Complaint, Revisit
from .notices import REVISIT_DUE
from .permissions import can_do_revisit

AFTER_COMPLAINT_DAYS = 7
AFTER_DETRACTOR_DAYS = 3
ROUTINE_EVERY_DAYS = 90


def is_key_account(customer: Customer) -> bool:
    return customer.tier == Tier.A


def _create(customer: Customer, reason: str, due_on: date, complaint: Complaint | None = None) -> Revisit:
    revisit = Revisit.objects.create(
        customer=customer, owner=customer.owner, reason=reason, complaint=complaint, due_on=due_on
    )
    audit_record(
        action="revisit.planned",
        actor=None,
        obj=revisit,
        changes={"customer": customer.code, "reason": reason, "due_on": due_on.isoformat()},
    )
    notify(
        recipients=[customer.owner],
        kind=REVISIT_DUE,
        url=reverse("service:revisits"),
        params={"customer": customer.name, "due": due_on.isoformat(), "reason": revisit.get_reason_display()},
    )
    return revisit


def revisit_after_complaint(complaint: Complaint) -> Revisit | None:
    """A key account whose complaint closed gets a revisit within a week (once per complaint)."""
    customer = complaint.customer
    if customer is None or not is_key_account(customer):
        return None
    if Revisit.objects.filter(complaint=complaint, reason=Revisit.Reason.COMPLAINT).exists():
        return None
    return _create(
        customer,
        Revisit.Reason.COMPLAINT,
        timezone.localdate() + timedelta(days=AFTER_COMPLAINT_DAYS),
        complaint,
    )


def revisit_after_survey(customer: Customer, nps: int) -> Revisit | None:
    """A key account that would not recommend us (NPS 0–6) is called within three days,
    unless a revisit is already open for them."""
    if nps > 6 or not is_key_account(customer):
        return None
    if Revisit.objects.filter(customer=customer, done_on__isnull=True).exists():
        return None
    return _create(customer, Revisit.Reason.DETRACTOR, timezone.localdate() + timedelta(days=AFTER_DETRACTOR_DAYS))


def revisits_plan_routine(*, on: date | None = None) -> int:
    """Every active key account without a revisit planned or done in the last quarter gets
    one, due in two weeks. Safe to run daily."""
    on = on or timezone.localdate()
    since = on - timedelta(days=ROUTINE_EVERY_DAYS)
    # planned in the quarter, or done in it (a revisit planned long ago and done last week counts)
    recent = Revisit.objects.filter(Q(created_at__date__gte=since) | Q(done_on__gte=since)).values("customer_id")
    open_ = Revisit.objects.filter(done_on__isnull=True).values("customer_id")
    made = 0
    for customer in (
        Customer.objects.filter(tier=Tier.A, status=Customer.Status.ACTIVE)
        .exclude(pk__in=recent)
        .exclude(pk__in=open_)
        .select_related("owner")
    ):
        with transaction.atomic():
            _create(customer, Revisit.Reason.ROUTINE, on + timedelta(days=14))
            made += 1
    return made


def revisit_done(
    *, by, revisit: Revisit, outcome: str, kind: str = Activity.Kind.CALL, on: date | None = None
) -> Revisit:
    """The revisit happened: its outcome is kept, and a call or visit is recorded with the
    customer like any other activity."""
    if by is None or not can_do_revisit(by, revisit):
        raise PermissionDeniedError()
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationFailed(
            _("Write what the customer said."),
            code="outcome_missing",
            fields={"outcome": [_("Write what the customer said.")]},
        )
    if kind not in (Activity.Kind.CALL, Activity.Kind.VISIT):
        raise ValidationFailed(code="invalid_kind", fields={"kind": [_("A call or a visit.")]})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationFailed(
            _("A revisit is recorded once it happened."), code="date_in_future", fields={"on": [_("In the future.")]}
        )
    with transaction.atomic():
        locked = Revisit.objects.select_for_update(of=("self",)).select_related("customer").get(pk=revisit.pk)
        if locked.done_on is not None:
            raise ValidationFailed(_("This revisit is done already."), code="revisit_done")
        locked.done_on, locked.outcome, locked.updated_by = on, outcome[:4000], by
        locked.save(update_fields=["done_on", "outcome", "updated_by", "updated_at"])
        # the CRM's rule for any activity: it follows up the customer's open CRM revisits
        # (crm.services.activity_log, which asks for rights on the customer the desk lacks)
        Activity.objects.filter(
            customer=locked.customer, revisit_done_at__isnull=True, next_revisit__isnull=False
        ).update(revisit_done_at=on)
        Activity.objects.create(
            kind=kind,
            customer=locked.customer,
            owner=by,
            happened_on=on,
            subject=_("Revisit: %(reason)s") % {"reason": locked.get_reason_display()},
            outcome=outcome[:4000],
            created_by=by,
        )
        audit_record(action="revisit.done", actor=by, obj=locked, changes={"outcome": outcome[:200]})
    return locked
