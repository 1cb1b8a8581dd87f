"""What the customer is told (a promised date, a delivery date), and the owner's inbox kinds.

A customer is not a user: the notice is kept as written and e-mailed to the customer's
primary contact after the transaction commits, once."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.mailing import RESEND_AFTER, RESEND_WITHIN
from foodflow.core.notifications import NotificationKind, register_kind

from .models import CustomerNotice, SalesOrder

CUSTOMER_LANGUAGE = "zh-hans"

APPROVAL_NEEDED = register_kind(
    NotificationKind(
        code="approval_needed",
        label=gettext_lazy("A document waits for your approval"),
        title=gettext_lazy("%(document)s waits for your approval"),
        body=gettext_lazy("%(reasons)s"),
    )
)
APPROVAL_DECIDED = register_kind(
    NotificationKind(
        code="approval_decided",
        label=gettext_lazy("Your document was approved or rejected"),
        title=gettext_lazy("%(document)s: %(decision)s"),
        body=gettext_lazy("%(comment)s"),
    )
)
ORDER_RETURNED = register_kind(
    NotificationKind(
        code="order_returned",
        label=gettext_lazy("An order was returned to sales"),
        title=gettext_lazy("Order %(order)s was returned to you"),
        body=gettext_lazy("Reason: %(reason)s"),
    )
)
RECEIVABLES_OVERDUE = register_kind(
    NotificationKind(
        code="receivables_overdue",
        label=gettext_lazy("Receivables of your customers are overdue"),
        title=gettext_lazy("%(count)s receivables are overdue"),
        body=gettext_lazy("%(amount)s CNY in total is past due. Open receivables to follow up."),
    )
)


def customer_notice(*, order: SalesOrder, kind: str, on: date) -> CustomerNotice:
    """Tell the customer a date. Written in the customer's language (Chinese by default)."""
    contact = order.customer.contacts.filter(is_primary=True).exclude(email="").first() or (
        order.customer.contacts.exclude(email="").first()
    )
    with translation.override(CUSTOMER_LANGUAGE):
        if kind == CustomerNotice.Kind.PROMISED_DATE:
            subject = _("Order %(order)s: promised delivery date %(date)s") % {"order": order.number, "date": on}
            body = _(
                "Dear customer, your order %(order)s (your reference %(reference)s) "
                "will be delivered on or before %(date)s."
            ) % {"order": order.number, "reference": order.customer_reference or "-", "date": on}
        else:
            subject = _("Order %(order)s: delivery on %(date)s") % {"order": order.number, "date": on}
            body = _("Dear customer, goods of your order %(order)s will be delivered on %(date)s.") % {
                "order": order.number,
                "date": on,
            }
    notice = CustomerNotice.objects.create(
        customer=order.customer,
        order=order,
        kind=kind,
        recipient=contact.email if contact else "",
        subject=subject[:200],
        body=body,
    )
    if notice.recipient:
        transaction.on_commit(lambda: customer_notice_send(notice_id=notice.pk))
    return notice


def customer_notice_send(*, notice_id: int) -> bool:
    """Send once: a notice already e-mailed is not sent again."""
    with transaction.atomic():
        notice = CustomerNotice.objects.select_for_update().filter(pk=notice_id, sent_at__isnull=True).first()
        if notice is None or not notice.recipient:
            return False
        send_mail(
            subject=notice.subject,
            message=notice.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notice.recipient],
        )
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def customer_notices_resend(*, now=None) -> int:
    """Send the customer notices whose send was lost after the commit (each once; see
    ``core.mailing.RESEND_AFTER``); the number sent."""
    now = now or timezone.now()
    owed = CustomerNotice.objects.filter(
        sent_at__isnull=True, created_at__lt=now - RESEND_AFTER, created_at__gte=now - RESEND_WITHIN
    ).exclude(recipient="")
    return sum(customer_notice_send(notice_id=pk) for pk in owed.values_list("pk", flat=True))
