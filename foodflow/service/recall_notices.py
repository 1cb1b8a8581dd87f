"""Recall notices: the letter each customer of a recall receives (a PDF listing the lot, the
product, why it is recalled, every delivery of it to that customer and what to do), e-mailed
to the customer's primary contact with an e-mail address, or phoned by the desk.

A recall line records when and how its customer was told (``notified_at``, ``notified_to``:
the address written to, or "phone"). A customer without an e-mail contact is never marked:
the recall page lists them so the desk phones them and records it. A mock recall drill never
writes to customers, and a closed recall sends nothing more."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, ValidationFailed
from foodflow.core.mailing import RESEND_AFTER
from foodflow.core.permissions import require_unless_system
from foodflow.crm.models import Contact, Customer
from foodflow.sales.pdf import pdf_html, pdf_render

from .models import Recall, RecallLine
from .permissions import can_trace_lots

logger = logging.getLogger(__name__)

CUSTOMER_LANGUAGE = "zh-hans"
NOTIFIED_BY_PHONE = "phone"
TEMPLATE = "service/pdf/recall_notice.html"


# --- who is written to --------------------------------------------------------------------------


def _email_contacts(customer_ids) -> dict[int, Contact]:
    """Per customer, the contact a notice is e-mailed to: the primary one if it has an e-mail
    address, else the first other contact (by name) that has one. One query."""
    found: dict[int, Contact] = {}
    for contact in (
        Contact.objects.filter(customer_id__in=list(customer_ids))
        .exclude(email="")
        .order_by("customer_id", "-is_primary", "name", "pk")
    ):
        found.setdefault(contact.customer_id, contact)
    return found


def notice_contact(customer: Customer) -> Contact | None:
    return _email_contacts([customer.pk]).get(customer.pk)


@dataclass(frozen=True)
class NoticeRow:
    """One customer of a recall as the recall page shows its notice."""

    customer: Customer
    deliveries: int
    shipped: Decimal
    contact: Contact | None  # who an e-mail goes to; None: the desk phones
    phone_name: str
    phone: str
    notified_at: datetime | None  # when every line of the customer was notified (the latest)
    notified_to: str
    pending: int  # lines not notified yet

    @property
    def notified(self) -> bool:
        return self.pending == 0

    @property
    def by_phone(self) -> bool:
        return self.notified_to == NOTIFIED_BY_PHONE


def recall_notice_rows(recall: Recall) -> list[NoticeRow]:
    """Every customer of the recall with its contact and notice state, by name. Two queries."""
    lines = list(recall.lines.select_related("customer").order_by("customer__name", "customer_id", "pk"))
    contacts = _email_contacts({line.customer_id for line in lines})
    grouped: dict[int, list[RecallLine]] = {}
    for line in lines:
        grouped.setdefault(line.customer_id, []).append(line)
    rows = []
    for customer_id, own in grouped.items():
        pending = sum(1 for line in own if line.notified_at is None)
        latest = max((line for line in own if line.notified_at), key=lambda line: line.notified_at, default=None)
        rows.append(
            NoticeRow(
                customer=own[0].customer,
                deliveries=len(own),
                shipped=sum((line.shipped_quantity for line in own), Decimal(0)),
                contact=contacts.get(customer_id),
                phone_name=next((line.contact_name for line in own if line.contact_name), ""),
                phone=next((line.contact_phone for line in own if line.contact_phone), ""),
                notified_at=latest.notified_at if latest and not pending else None,
                notified_to=latest.notified_to if latest and not pending else "",
                pending=pending,
            )
        )
    return rows


# --- the notice -------------------------------------------------------------------------------------


def _quantity(value: Decimal) -> str:
    text = f"{value:,.3f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _notice_context(recall: Recall, customer: Customer) -> dict:
    recall = Recall.objects.select_related("lot__product", "created_by", "complaint").get(pk=recall.pk)
    lines = list(
        RecallLine.objects.filter(recall=recall, customer=customer)
        .select_related("delivery")
        .order_by("delivery__shipped_at", "delivery__number")
    )
    if not lines:
        message = _("%(customer)s did not receive the lot.") % {"customer": customer.name}
        raise ValidationFailed(message, code="customer_not_in_recall", fields={"customer": [message]})
    product = recall.lot.product
    contact = notice_contact(customer)
    sender = recall.created_by
    return {
        "recall": recall,
        "customer": customer,
        "lot": recall.lot,
        "product": product,
        "contact": contact,
        "issued_on": timezone.localdate(),
        "deliveries": [
            {
                "number": line.delivery.number,
                "shipped_at": line.delivery.shipped_at,
                "quantity": _quantity(line.shipped_quantity),
                "returned": _quantity(line.returned_quantity),
            }
            for line in lines
        ],
        "total": _quantity(sum((line.shipped_quantity for line in lines), Decimal(0))),
        "unit": product.sales_unit,
        "company_address": getattr(settings, "FOODFLOW_COMPANY_ADDRESS", ""),
        "sender_name": sender.display_name if sender else "",
        "sender_phone": getattr(sender, "phone", "") if sender else "",
        "sender_email": sender.email if sender else "",
    }


def recall_notice_html(recall: Recall, customer: Customer, language: str = CUSTOMER_LANGUAGE) -> str:
    """The notice's HTML (what ``recall_notice_pdf`` renders)."""
    with translation.override(language):
        return pdf_html(TEMPLATE, _notice_context(recall, customer))


def recall_notice_pdf(recall: Recall, customer: Customer, language: str = CUSTOMER_LANGUAGE) -> bytes:
    """The recall notice of one customer as a PDF: the lot, the product, why it is recalled,
    each delivery of it to the customer with the quantity shipped, what to do (stop selling,
    set aside, return) and whom to call. A drill's notice says DRILL on every page."""
    with translation.override(language):
        return pdf_render(TEMPLATE, _notice_context(recall, customer))


def recall_notice_filename(recall: Recall, customer: Customer) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{recall.number}-{customer.code or customer.pk}") + ".pdf"


# --- telling the customers ----------------------------------------------------------------------------


def _may_notify(recall: Recall, *, by_email: bool) -> None:
    if recall.state != "open":
        raise ConflictError(_("The recall is closed."), code="recall_closed")
    if by_email and recall.is_drill:
        raise ConflictError(
            _("A mock recall drill never writes to customers: nothing was sent."), code="recall_drill_no_notice"
        )


def _message(recall: Recall, customer: Customer, contact: Contact, document: bytes) -> EmailMessage:
    product = recall.lot.product
    sender = recall.created_by
    with translation.override(CUSTOMER_LANGUAGE):
        subject = _("Recall notice %(number)s: %(product)s, lot %(lot)s") % {
            "number": recall.number,
            "product": product.display_name,
            "lot": recall.lot.lot_number,
        }
        body = _(
            "Dear %(name)s,\n\n"
            "we are recalling lot %(lot)s of %(product)s. Reason: %(reason)s\n\n"
            "Please stop selling the goods of this lot at once, set them aside and keep them for "
            "their return. The attached notice lists each delivery of the lot to %(customer)s and "
            "what to do.\n\n"
            "Questions: %(contact)s\n\n%(company)s"
        ) % {
            "name": contact.name,
            "lot": recall.lot.lot_number,
            "product": product.display_name,
            "reason": recall.reason,
            "customer": customer.name,
            "contact": " · ".join(
                part for part in (getattr(sender, "display_name", ""), getattr(sender, "phone", "")) if part
            )
            or settings.DEFAULT_FROM_EMAIL,
            "company": settings.FOODFLOW_COMPANY_NAME,
        }
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        reply_to=[sender.email] if sender is not None and sender.email else None,
    )
    message.attach(recall_notice_filename(recall, customer), document, "application/pdf")
    return message


def _send(message: EmailMessage, *, recall_id: int, line_ids: list[int], at: datetime) -> bool:
    """Send one notice after the commit; the lines record that the mail server took it. If the
    server refuses it, the lines are not left saying the customer was told: they go back to
    un-notified, for the desk to phone."""
    try:
        message.send()
        RecallLine.objects.filter(pk__in=line_ids, notified_at=at).update(mailed_at=timezone.now())
        return True
    except Exception:
        logger.exception("recall notice to %s not sent", message.to)
        with transaction.atomic():
            undone = RecallLine.objects.filter(pk__in=line_ids, notified_at=at, notified_to=message.to[0]).update(
                notified_at=None, notified_to=""
            )
            audit_record(
                action="recall.notice_failed",
                actor=None,
                object_type=Recall._meta.label_lower,
                object_id=recall_id,
                changes={"to": message.to[0], "lines": undone},
            )
        return False


def recall_notices_resend(*, now: datetime | None = None) -> int:
    """Send the e-mailed notices of open recalls whose send was lost between the commit and the
    mail server (the process ended in between): lines marked as e-mailed longer than
    ``RESEND_AFTER`` ago with no e-mail taken. Each is sent once, to the address recorded. The
    number of notices sent."""
    now = now or timezone.now()
    owed = (
        RecallLine.objects.filter(recall__state="open", mailed_at__isnull=True, notified_at__lt=now - RESEND_AFTER)
        .exclude(notified_to__in=("", NOTIFIED_BY_PHONE))
        .order_by()
        .values_list("recall_id", "customer_id", "notified_to", "notified_at")
        .distinct()
    )
    sent = 0
    for recall_id, customer_id, to, at in list(owed):
        with transaction.atomic():
            line_ids = list(
                RecallLine.objects.select_for_update()
                .filter(recall_id=recall_id, customer_id=customer_id, notified_to=to, notified_at=at)
                .filter(mailed_at__isnull=True)
                .values_list("pk", flat=True)
            )
            if not line_ids:  # another run sent it meanwhile
                continue
            recall = Recall.objects.select_related("lot__product", "created_by").get(pk=recall_id)
            customer = Customer.objects.get(pk=customer_id)
            contact = Contact.objects.filter(customer=customer, email=to).order_by("-is_primary", "pk").first()
            contact = contact or Contact(customer=customer, name=customer.name, email=to)
            message = _message(recall, customer, contact, recall_notice_pdf(recall, customer))
            sent += _send(message, recall_id=recall_id, line_ids=line_ids, at=at)
    return sent


def recall_notify(*, by, recall: Recall, customer: Customer | None = None) -> int:
    """E-mail the recall notice (the PDF attached) to each customer of the recall not told yet,
    or to ``customer`` again, at its primary contact with an e-mail address; the customer's
    lines record when and to whom. Customers without such a contact are left un-notified for
    the desk to phone. The mails go after the commit. The number of customers e-mailed."""
    require_unless_system(by, can_trace_lots)
    _may_notify(Recall.objects.get(pk=recall.pk), by_email=True)
    lines = RecallLine.objects.filter(recall=recall)
    if customer is not None:
        lines = lines.filter(customer=customer)
        if not lines.exists():
            message = _("%(customer)s did not receive the lot.") % {"customer": customer.name}
            raise ValidationFailed(message, code="customer_not_in_recall", fields={"customer": [message]})
    else:
        lines = lines.filter(notified_at__isnull=True)
    customer_ids = sorted(set(lines.values_list("customer_id", flat=True)))
    contacts = _email_contacts(customer_ids)
    if customer is not None and customer.pk not in contacts:
        message = _("%(customer)s has no contact with an e-mail address: phone them and record it.") % {
            "customer": customer.name
        }
        raise ValidationFailed(message, code="no_email_contact", fields={"customer": [message]})
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=list(contacts))}
    # rendered before the recall is locked: a notice takes a few tenths of a second
    documents = {customer_id: recall_notice_pdf(recall, customers[customer_id]) for customer_id in contacts}
    sent = 0
    with transaction.atomic():
        locked = (
            Recall.objects.select_for_update(of=("self",))
            .select_related("lot__product", "created_by")
            .get(pk=recall.pk)
        )
        _may_notify(locked, by_email=True)
        now = timezone.now()
        for customer_id, document in documents.items():
            contact = contacts[customer_id]
            own = RecallLine.objects.filter(recall=locked, customer_id=customer_id)
            if customer is None:
                own = own.filter(notified_at__isnull=True)  # someone else told them meanwhile
            line_ids = list(own.values_list("pk", flat=True))
            if not line_ids:
                continue
            RecallLine.objects.filter(pk__in=line_ids).update(notified_at=now, notified_to=contact.email[:254])
            audit_record(
                action="recall.notified",
                actor=by,
                obj=locked,
                changes={
                    "customer": customers[customer_id].code,
                    "to": contact.email,
                    "how": "email",
                    "lines": len(line_ids),
                },
            )
            message = _message(locked, customers[customer_id], contact, document)
            transaction.on_commit(partial(_send, message, recall_id=locked.pk, line_ids=line_ids, at=now))
            sent += 1
    return sent


def recall_notified_by_phone(*, by, recall: Recall, customer: Customer) -> int:
    """The desk told ``customer`` by phone: its lines not notified yet record it ("phone").
    The number of lines marked."""
    require_unless_system(by, can_trace_lots)
    with transaction.atomic():
        locked = Recall.objects.select_for_update().get(pk=recall.pk)
        _may_notify(locked, by_email=False)
        own = RecallLine.objects.filter(recall=locked, customer=customer)
        if not own.exists():
            message = _("%(customer)s did not receive the lot.") % {"customer": customer.name}
            raise ValidationFailed(message, code="customer_not_in_recall", fields={"customer": [message]})
        pending = list(own.filter(notified_at__isnull=True).values_list("pk", flat=True))
        if not pending:
            raise ConflictError(
                _("%(customer)s was notified already.") % {"customer": customer.name}, code="already_notified"
            )
        RecallLine.objects.filter(pk__in=pending).update(notified_at=timezone.now(), notified_to=NOTIFIED_BY_PHONE)
        audit_record(
            action="recall.notified",
            actor=by,
            obj=locked,
            changes={"customer": customer.code, "to": NOTIFIED_BY_PHONE, "how": "phone", "lines": len(pending)},
        )
    return len(pending)


def recall_customers_to_phone(recall: Recall) -> list[Customer]:
    """The customers of the recall not notified yet who have no e-mail contact."""
    return [row.customer for row in recall_notice_rows(recall) if not row.notified and row.contact is None]
