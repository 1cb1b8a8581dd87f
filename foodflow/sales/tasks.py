"""Scheduled work of order to cash: each task takes plain values and calls one service."""

from datetime import date

from foodflow.core.tasks import background_task

from .notices import customer_notices_resend
from .receivables import receivables_overdue_remind
from .services import quotations_expire_due


@background_task()
def expire_quotations(on: str | None = None) -> int:
    return quotations_expire_due(on=date.fromisoformat(on) if on else None)


@background_task()
def overdue_reminders(on: str | None = None) -> dict:
    return receivables_overdue_remind(on=date.fromisoformat(on) if on else None)


@background_task()
def customer_notices_resend_owed() -> int:
    return customer_notices_resend()
