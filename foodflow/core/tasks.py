"""Background work. Every task of every app is declared with ``background_task``: a worker that
dies in the middle gives the task back to the broker (acknowledged late, rejected when the worker
is lost), and a transient error (the database or the broker briefly gone, a lock timeout, a
deadlock victim, a refused connection) is retried with a growing pause. A task may therefore
run more than once: each is written so that running it again does the work once (its service
checks what was done already, in its own transaction)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from .mailing import notification_emails_resend, notification_send_email_now

TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, OSError)


def background_task(**options):
    return shared_task(
        **{
            "autoretry_for": TRANSIENT_ERRORS,
            "retry_backoff": True,
            "retry_backoff_max": 600,
            "retry_jitter": True,
            "max_retries": 5,
            "acks_late": True,
            "reject_on_worker_lost": True,
            **options,
        }
    )


@background_task()
def notification_send_email(notification_id: int) -> bool:
    return notification_send_email_now(notification_id=notification_id)


@background_task()
def notification_emails_resend_owed() -> int:
    return notification_emails_resend()
