"""Sending the e-mail behind a notification, exactly once."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification


def notification_send_email_now(*, notification_id: int) -> bool:
    """Send the e-mail of one notification once (a retried task does not send twice)."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if note is None:
            return False
        send_mail(
            subject=note.title,
            message=f"{note.body}\n\n{note.url}".strip(),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[note.recipient.email],
        )
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return True


# A send is made after the commit; the process may end in between (killed, restarted) or the
# mail server may be away. What is still owed after this long is sent by the resend job, within
# this many days (past them an e-mail is news no longer; the inbox has it).
RESEND_AFTER = timedelta(minutes=10)
RESEND_WITHIN = timedelta(days=2)


def notification_emails_resend(*, now=None) -> int:
    """Send the notification e-mails owed and lost (each once); the number sent."""
    now = now or timezone.now()
    owed = Notification.objects.filter(
        email_due=True,
        emailed_at__isnull=True,
        created_at__lt=now - RESEND_AFTER,
        created_at__gte=now - RESEND_WITHIN,
    ).exclude(recipient__email="")
    return sum(notification_send_email_now(notification_id=pk) for pk in owed.values_list("pk", flat=True))
