from celery import shared_task

from .mailing import notification_send_email_now


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_send_email(notification_id: int) -> bool:
    return notification_send_email_now(notification_id=notification_id)
