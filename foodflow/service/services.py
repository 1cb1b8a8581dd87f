"""Complaints (service tickets): intake from any channel with its SLA deadlines in business
time, assignment, first response, actions, resolution with root cause and corrective action,
the customer's confirmation or disagreement, and escalation before a deadline breaks. Every
state change goes through the transition table in ``workflows.py``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition, workflow_started

from .models import Complaint, ComplaintAction, Severity, SlaPolicy
from .permissions import can_log_complaints, can_manage_complaint
from .sla import add_business_time, business_time_between, calendar_load
from .workflows import COMPLAINT_FLOW, OPEN

NUMBER_PREFIX = "CP"
# when no SLA is configured for a severity (business hours: response, resolution)
FALLBACK_SLA = {
    Severity.CRITICAL: (2, 8),
    Severity.HIGH: (4, 24),
    Severity.MEDIUM: (8, 40),
    Severity.LOW: (16, 80),
}


class ServiceRuleBroken(DomainError):
    code = "service_rule"
    default_message = gettext_lazy("This is not allowed for the complaint in its current state.")
    status = 409


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _invalid(field, message, f"{field}_missing")
    return value


def sla_deadlines(severity: str, received_at: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a complaint of ``severity`` received then."""
    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is not None:
        response, resolution = policy.response_hours, policy.resolution_hours
    else:
        response, resolution = FALLBACK_SLA[severity]
    calendar = calendar_load()
    return (
        add_business_time(calendar, received_at, timedelta(hours=float(response))),
        add_business_time(calendar, received_at, timedelta(hours=float(resolution))),
    )


def complaint_log(
    *,
    by,
    channel: str,
    category: str,
    severity: str,
    description: str,
    customer=None,
    contact_name: str = "",
    contact_phone: str = "",
    order=None,
    delivery=None,
    lot=None,
    product=None,
    owner=None,
    received_at: datetime | None = None,
) -> Complaint:
    """Log a complaint from any channel. ``by`` None is the public form (no login). The
    deadlines run from receipt in the desk's business hours."""
    if by is not None:
        require_unless_system(by, can_log_complaints)
    errors = {}
    if channel not in Complaint.Channel.values:
        errors["channel"] = [_("Not a known channel.")]
    if category not in Complaint.Category.values:
        errors["category"] = [_("Not a known category.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Not a known severity.")]
    if not (description or "").strip():
        errors["description"] = [_("Describe the complaint.")]
    if customer is None and delivery is None and order is None and not (contact_name or "").strip():
        errors["contact_name"] = [_("Name the customer or the person complaining.")]
    if errors:
        raise ValidationFailed(_("Complete the complaint."), code="complaint_incomplete", fields=errors)
    # what was received is consistent: the lot's product, the delivery's order and customer
    if delivery is not None:
        order = order or delivery.order
        customer = customer or delivery.customer
        if delivery.order.number != order.number:
            raise _invalid("delivery", _("The delivery belongs to another order."), "delivery_mismatch")
    if order is not None:
        customer = customer or order.customer
        if order.customer_id != customer.pk:
            raise _invalid("order", _("The order belongs to another customer."), "order_mismatch")
    if lot is not None:
        product = product or lot.product
        if lot.product_id != product.pk:
            raise _invalid("lot", _("The lot is of another product."), "lot_mismatch")
    received_at = received_at or timezone.now()
    response_due, resolution_due = sla_deadlines(severity, received_at)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=number_next(doc_type=NUMBER_PREFIX),
            channel=channel,
            category=category,
            severity=severity,
            customer=customer,
            contact_name=(contact_name or "").strip()[:64],
            contact_phone=(contact_phone or "").strip()[:32],
            order=order,
            delivery=delivery,
            lot=lot,
            product=product,
            description=description.strip(),
            received_at=received_at,
            response_due=response_due,
            resolution_due=resolution_due,
            created_by=acting_user(by),
        )
        workflow_started(workflow=COMPLAINT_FLOW, obj=complaint, by=by)
        audit_record(
            action="complaint.logged",
            actor=by,
            obj=complaint,
            changes={"channel": channel, "category": category, "severity": severity, "lot": str(lot or "")},
        )
        if owner is not None:
            complaint = complaint_assign(by=by, complaint=complaint, owner=owner)
    return complaint


# what a consumer reports is triaged by what it is about: food safety first
PUBLIC_SEVERITY = {"foreign_matter": "high", "quality": "high", "expiry": "high"}


def complaint_from_public_form(
    *,
    category: str,
    description: str,
    contact_name: str,
    contact_phone: str,
    company: str = "",
    delivery_number: str = "",
    lot_number: str = "",
) -> Complaint:
    """A complaint from the public form (no login). The delivery note's number (from its QR
    code or typed) links the complaint to that delivery; a lot number is unique per product
    only, so the delivery's own lot is taken first. Unknown numbers are refused by field."""
    from foodflow.inventory.models import Lot
    from foodflow.sales.models import Delivery

    errors, delivery, lot = {}, None, None
    delivery_number, lot_number = (delivery_number or "").strip(), (lot_number or "").strip()
    if delivery_number:
        delivery = Delivery.objects.select_related("order", "customer").filter(number=delivery_number).first()
        if delivery is None:
            errors["delivery_number"] = [_("We do not know this delivery note number. Check it, or leave it empty.")]
    if lot_number:
        lots = Lot.objects.select_related("product").filter(lot_number=lot_number)
        lot = (lots.filter(delivery_lines__delivery=delivery).first() if delivery else None) or lots.first()
        if lot is None:
            errors["lot_number"] = [_("We do not know this lot number. Check it, or leave it empty.")]
    if errors:
        raise ValidationFailed(_("Check the numbers you gave."), code="unknown_number", fields=errors)
    if (company or "").strip():
        description = f"{company.strip()}: {description}"
    return complaint_log(
        by=None,
        channel=Complaint.Channel.PUBLIC_FORM,
        category=category,
        severity=PUBLIC_SEVERITY.get(category, Severity.MEDIUM),
        description=description,
        contact_name=contact_name,
        contact_phone=contact_phone,
        delivery=delivery,
        lot=lot,
    )


def _require(by, complaint: Complaint) -> None:
    if by is not None and not can_manage_complaint(by, complaint):
        raise PermissionDeniedError()


def complaint_assign(*, by, complaint: Complaint, owner) -> Complaint:
    from foodflow.core.notifications import notify

    from .notices import COMPLAINT_ASSIGNED

    _require(by, complaint)
    if not can_log_complaints(owner):
        raise _invalid("owner", _("%(name)s does not handle complaints.") % {"name": owner}, "owner_not_service")

    def apply(row):
        row.owner = owner
        return ["owner"]

    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.state == "new":
            complaint = transition(
                workflow=COMPLAINT_FLOW,
                obj=locked,
                action="assign",
                by=by,
                apply=apply,
                changes={"owner": owner.username},
            )
        elif locked.state in OPEN:
            # handed over: the state stays where the work is
            previous = locked.owner
            locked.owner = owner
            locked.save(update_fields=["owner", "updated_at"])
            audit_record(
                action="complaint.reassigned",
                actor=by,
                obj=locked,
                changes={"owner": [getattr(previous, "username", ""), owner.username]},
            )
            complaint = locked
        else:
            raise ServiceRuleBroken(_("The complaint is not open."), code="complaint_not_open")
    if getattr(by, "pk", None) != owner.pk:
        notify(
            recipients=[owner],
            kind=COMPLAINT_ASSIGNED,
            params={
                "complaint": complaint.number,
                "customer": complaint.customer.name if complaint.customer else complaint.contact_name,
                "category": complaint.get_category_display(),
                "severity": complaint.get_severity_display(),
                "due": timezone.localtime(complaint.response_due).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return complaint


def complaint_add_action(*, by, complaint: Complaint, kind: str, note: str) -> ComplaintAction:
    _require(by, complaint)
    if kind not in ComplaintAction.Kind.values or kind in (
        ComplaintAction.Kind.ESCALATION,
        ComplaintAction.Kind.REMEDY,
    ):
        raise _invalid("kind", _("Not a kind of action you can record."), "invalid_kind")
    note = _required(note, "note", _("Describe what was done."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.state not in OPEN:
            raise ServiceRuleBroken(_("The complaint is not open."), code="complaint_not_open")
        return _act(locked, kind, note, by)


def _act(locked: Complaint, kind: str, note: str, by) -> ComplaintAction:
    """Record what was done on a locked, open complaint. The first thing done for the
    customer is the first response; whoever does it on a complaint nobody had yet takes it."""
    action = ComplaintAction.objects.create(complaint=locked, kind=kind, note=note[:4000], by=by)
    audit_record(action="complaint.action", actor=by, obj=locked, changes={"kind": kind, "note": action.note})
    if locked.state in ("new", "assigned"):

        def apply(row):
            row.responded_at = timezone.now()
            if row.owner_id is None and by is not None:
                row.owner = by
                return ["responded_at", "owner"]
            return ["responded_at"]

        transition(workflow=COMPLAINT_FLOW, obj=locked, action="respond", by=by, apply=apply)
    return action


def complaint_resolve(
    *, by, complaint: Complaint, resolution: str, root_cause: str, corrective_action: str
) -> Complaint:
    _require(by, complaint)
    resolution = _required(resolution, "resolution", _("Describe the resolution."))
    root_cause = _required(root_cause, "root_cause", _("Record the root cause."))
    corrective_action = _required(corrective_action, "corrective_action", _("Record the corrective action."))

    def apply(row):
        row.resolution, row.root_cause, row.corrective_action = resolution, root_cause, corrective_action
        row.resolved_at = timezone.now()
        return ["resolution", "root_cause", "corrective_action", "resolved_at"]

    return transition(workflow=COMPLAINT_FLOW, obj=complaint, action="resolve", by=by, apply=apply)


def complaint_confirm(*, by, complaint: Complaint, feedback: str = "") -> Complaint:
    """The customer accepts the resolution: closed."""
    _require(by, complaint)

    from .revisits import revisit_after_complaint
    from .surveys import survey_send

    def apply(row):
        row.customer_feedback = (feedback or "").strip()[:300]
        row.closed_at = timezone.now()
        return ["customer_feedback", "closed_at"]

    with transaction.atomic():
        complaint = transition(workflow=COMPLAINT_FLOW, obj=complaint, action="confirm", by=by, apply=apply)
        if complaint.customer is not None:
            # how the customer felt about the handling, and a call for a key account
            survey_send(trigger="complaint", customer=complaint.customer, complaint=complaint)
            revisit_after_complaint(complaint)
    return complaint


def complaint_reopen(*, by, complaint: Complaint, feedback: str) -> Complaint:
    """The customer disagrees: back in progress, with what they said."""
    _require(by, complaint)
    feedback = _required(feedback, "feedback", _("Say what the customer disagrees with."))

    def apply(row):
        row.customer_feedback = feedback[:300]
        row.resolved_at = row.closed_at = None
        return ["customer_feedback", "resolved_at", "closed_at"]

    return transition(workflow=COMPLAINT_FLOW, obj=complaint, action="reopen", by=by, reason=feedback, apply=apply)


# --- escalation ------------------------------------------------------------------------------------


def _escalation_due(complaint: Complaint, calendar, now: datetime, warn: timedelta) -> str | None:
    """The escalation a complaint needs now (``response:warning`` …), or None."""
    if complaint.responded_at is None:
        clock, due = "response", complaint.response_due
    else:
        clock, due = "resolution", complaint.resolution_due
    if now >= due:
        stage = "breached"
    elif business_time_between(calendar, now, due) <= warn:
        stage = "warning"
    else:
        return None
    key = f"{clock}:{stage}"
    return None if key in complaint.escalations else key


def complaints_escalate_due(*, now: datetime | None = None) -> dict:
    """Escalate every open complaint about to break (or past) its current deadline, once per
    stage: a warning goes to its handler (the whole desk when nobody has it yet), a breach
    also to the sales directors. Safe to run as often as wanted."""
    from foodflow.accounts.models import User
    from foodflow.core.notifications import notify

    from .notices import SLA_ESCALATION

    now = now or timezone.now()
    calendar = calendar_load()
    warn_by_severity = {p.severity: timedelta(minutes=p.warn_minutes) for p in SlaPolicy.objects.all()}
    done = {"warning": 0, "breached": 0}
    candidates = Complaint.objects.filter(state__in=OPEN).select_related("customer", "owner")
    for complaint in candidates:
        warn = warn_by_severity.get(complaint.severity, timedelta(minutes=60))
        if _escalation_due(complaint, calendar, now, warn) is None:
            continue
        with transaction.atomic():
            locked = (
                Complaint.objects.select_for_update(of=("self",))
                .select_related("customer", "owner")
                .get(pk=complaint.pk)
            )
            key = _escalation_due(locked, calendar, now, warn) if locked.state in OPEN else None
            if key is None:
                continue  # someone answered it meanwhile, or another run escalated it
            clock, stage = key.split(":")
            locked.escalations = [*locked.escalations, key]
            locked.escalated_at = now
            locked.save(update_fields=["escalations", "escalated_at"])
            ComplaintAction.objects.create(complaint=locked, kind=ComplaintAction.Kind.ESCALATION, note=key)
            audit_record(action="complaint.escalated", actor=None, obj=locked, changes={"escalation": key})
            desk = [locked.owner] if locked.owner else list(User.objects.filter(roles__code="service", is_active=True))
            recipients = desk + (
                list(User.objects.filter(roles__code="director", is_active=True)) if stage == "breached" else []
            )
            due = locked.response_due if clock == "response" else locked.resolution_due
            notify(
                recipients=recipients,
                kind=SLA_ESCALATION,
                params={
                    "complaint": locked.number,
                    "what": _ESCALATION_TEXT[key],
                    "customer": locked.customer.name if locked.customer else locked.contact_name,
                    "severity": locked.get_severity_display(),
                    "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                },
            )
            done[stage] += 1
    return done


_ESCALATION_TEXT = {
    "response:warning": gettext_lazy("first response due soon"),
    "response:breached": gettext_lazy("first response overdue"),
    "resolution:warning": gettext_lazy("resolution due soon"),
    "resolution:breached": gettext_lazy("resolution overdue"),
}
